-- A label removed: the type is created again and its column converted.
CREATE TYPE task_state AS ENUM ('open', 'done');
CREATE TABLE tasks (id int PRIMARY KEY, state task_state NOT NULL DEFAULT 'open');

-- A label added and made the default in the same apply.
CREATE TYPE priority AS ENUM ('low', 'normal', 'high');
CREATE TABLE tickets (id int PRIMARY KEY, priority priority NOT NULL DEFAULT 'normal');

-- A function of the enum created again, and a view calling it: dropped
-- before the type is, created after.
CREATE FUNCTION is_open(s task_state) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT s = 'open' $$;
CREATE VIEW open_tasks AS SELECT id FROM tasks WHERE is_open(state);
COMMENT ON FUNCTION is_open(task_state) IS 'open or not';
