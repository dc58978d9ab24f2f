create table fine (id int);
creat table oops (id int);
