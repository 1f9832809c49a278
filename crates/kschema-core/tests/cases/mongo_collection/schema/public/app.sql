CREATE TABLE organizations (id int PRIMARY KEY, name text);
