-- A label removed: the type is created again and its column converted.
CREATE TYPE task_state AS ENUM ('open', 'done');
CREATE TABLE tasks (id int PRIMARY KEY, state task_state NOT NULL DEFAULT 'open');
