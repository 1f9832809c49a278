-- A text column turned into a date with the conversion given, a column
-- renamed, a collation set.
CREATE TABLE tasks (
    id int PRIMARY KEY,
    name text COLLATE "C", -- kschema:renamed-from title
    due date, -- kschema:using (due::date)
    price numeric(10, 2) DEFAULT 0
);
