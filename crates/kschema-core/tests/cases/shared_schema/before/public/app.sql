CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL);
