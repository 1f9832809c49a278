CREATE TABLE roles (id int PRIMARY KEY, name text NOT NULL, description text);
