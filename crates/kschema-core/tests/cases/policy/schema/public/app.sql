CREATE TABLE audit (id int PRIMARY KEY, actor text);
