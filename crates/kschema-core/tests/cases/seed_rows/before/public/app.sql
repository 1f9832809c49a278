CREATE TABLE roles (id int PRIMARY KEY, name text NOT NULL, description text);
INSERT INTO roles VALUES (1, 'Admin', 'Everything'), (2, 'Member', 'Old text'), (9, 'Retired', NULL);
