-- A unique key added, a check changed.
CREATE TABLE users (
    id int PRIMARY KEY,
    email text UNIQUE,
    age int CHECK (age >= 18)
);
