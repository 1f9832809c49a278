CREATE TABLE notes (id bigint PRIMARY KEY, body text);
-- A tenant function returning its table's rows, and a view reading it.
CREATE FUNCTION recent_notes() RETURNS SETOF notes LANGUAGE sql STABLE
    AS $$ SELECT * FROM notes ORDER BY id DESC LIMIT 10 $$;
CREATE VIEW recent AS SELECT id FROM recent_notes();
