CREATE TABLE records (id int PRIMARY KEY);
