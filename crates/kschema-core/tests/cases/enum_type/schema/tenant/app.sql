-- A label removed: the type is created again and its column converted.
CREATE TYPE task_state AS ENUM ('open', 'done');
CREATE TABLE tasks (id int PRIMARY KEY, state task_state NOT NULL DEFAULT 'open');

-- A label added and made the default in the same apply.
CREATE TYPE priority AS ENUM ('low', 'normal', 'high');
CREATE TABLE tickets (id int PRIMARY KEY, priority priority NOT NULL DEFAULT 'normal');
