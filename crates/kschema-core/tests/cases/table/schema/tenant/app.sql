-- Each tenant keeps notes, loses scratch and gains tags.
CREATE TABLE notes (id int PRIMARY KEY, body text);
ALTER TABLE notes REPLICA IDENTITY FULL;

CREATE TABLE tags (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100) PRIMARY KEY,
    label text NOT NULL
);
