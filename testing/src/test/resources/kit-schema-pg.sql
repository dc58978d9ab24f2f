-- PostgreSQL is shared by every suite: names unique to the kit's ITs, dropped and created afresh.
drop table if exists tether_kit_it_account;
create table tether_kit_it_account (id int primary key, owner varchar(50) not null, balance int not null);
insert into tether_kit_it_account values (1, 'alice', 100), (2, 'bob', 50);
-- A dollar-quoted body with semicolons inside, which the script splitter must keep whole.
create or replace function tether_kit_it_total() returns bigint language sql as $$
    select sum(balance) from tether_kit_it_account; -- one statement; not split here
$$;
