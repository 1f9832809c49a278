-- Dropped: the function's alias has the domain's name, so their words
-- read as a cycle; PostgreSQL recorded only the domain needing the
-- function, and the domain goes first.
CREATE FUNCTION positive_old(n numeric) RETURNS boolean LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT n > 0 AS old_amount;
END;
CREATE DOMAIN old_amount AS numeric CHECK (positive_old(VALUE));
CREATE TABLE keep (id int PRIMARY KEY, paid old_amount);
