-- An extension, and a column of its type.
CREATE EXTENSION citext;
CREATE TABLE people (id int PRIMARY KEY, email citext);
