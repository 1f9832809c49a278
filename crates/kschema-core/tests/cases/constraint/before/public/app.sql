CREATE TABLE users (id int PRIMARY KEY, email text, age int CHECK (age > 0));
