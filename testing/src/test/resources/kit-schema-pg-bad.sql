drop table if exists tether_kit_it_bad;
create table tether_kit_it_bad (id int primary key);
