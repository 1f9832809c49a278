CREATE TYPE task_state AS ENUM ('open', 'stale', 'done');
CREATE TABLE tasks (id int PRIMARY KEY, state task_state NOT NULL DEFAULT 'open');
CREATE TYPE priority AS ENUM ('low', 'high');
CREATE TABLE tickets (id int PRIMARY KEY, priority priority NOT NULL DEFAULT 'low');
