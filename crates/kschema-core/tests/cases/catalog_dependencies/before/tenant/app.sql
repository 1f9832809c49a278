CREATE FUNCTION nonempty_old(t text) RETURNS boolean LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT t <> '' AS old_label;
END;
CREATE DOMAIN old_label AS text CHECK (nonempty_old(VALUE));
CREATE TABLE notes (id bigint PRIMARY KEY, label old_label);
