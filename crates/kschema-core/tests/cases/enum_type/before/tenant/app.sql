CREATE TYPE task_state AS ENUM ('open', 'stale', 'done');
CREATE TABLE tasks (id int PRIMARY KEY, state task_state NOT NULL DEFAULT 'open');
