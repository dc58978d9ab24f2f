-- PostgreSQL is shared by every suite: a name unique to PostgresR2dbcPoolKitIT, which drops it after the class.
drop table if exists tether_kit_r2p_account;
create table tether_kit_r2p_account (id int primary key, owner varchar(50) not null, balance int not null);
insert into tether_kit_r2p_account values (1, 'alice', 100), (2, 'bob', 50);
