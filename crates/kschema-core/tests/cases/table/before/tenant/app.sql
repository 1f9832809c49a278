CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE TABLE scratch (id int);
