CREATE TABLE contacts (id int PRIMARY KEY, email text);
