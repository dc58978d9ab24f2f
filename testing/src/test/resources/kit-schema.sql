-- Schema of the kit's own H2 tests: each @TetherTest class gets a fresh in-memory database.
create table account (id int primary key, owner varchar(50) not null, balance int not null);
insert into account values (1, 'alice', 100);
insert into account values (2, 'bob', 50);
