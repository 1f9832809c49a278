CREATE TABLE accounts (
    id int PRIMARY KEY,
    email varchar(100) NOT NULL,
    nickname text,
    score int DEFAULT 0,
    legacy text
);
