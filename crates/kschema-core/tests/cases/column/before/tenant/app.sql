CREATE TABLE tasks (
    id int PRIMARY KEY,
    title text,
    due text,
    price int
);
