-- The tenant's own: the old pair is dropped domain first (after the
-- column of it), the new pair created function first.
CREATE FUNCTION nonempty(t text) RETURNS boolean LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT t <> '' AS label;
END;
CREATE DOMAIN label AS text CHECK (nonempty(VALUE));
CREATE TABLE notes (id bigint PRIMARY KEY);
CREATE TABLE tags (id bigint PRIMARY KEY, label label NOT NULL);
