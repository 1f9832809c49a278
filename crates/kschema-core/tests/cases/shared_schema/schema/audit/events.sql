-- A shared schema of its own (the folder's name): a label added to its
-- enum, a column and an index on its table, a key to public, a table
-- dropped, a function and a view created.
CREATE TYPE level AS ENUM ('info', 'warn', 'error');
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    level level NOT NULL DEFAULT 'info',
    plan_id int REFERENCES public.plans (id),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_at ON events (at);
CREATE FUNCTION note(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'audit: ' || t $$;
CREATE VIEW recent AS SELECT id, level FROM events WHERE at > now() - interval '1 day';
