CREATE TABLE organizations (id int PRIMARY KEY);
