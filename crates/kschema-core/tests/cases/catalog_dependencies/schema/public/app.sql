-- Names that are words, not dependencies: the function's alias is the
-- domain's name, the type's attribute another type's. What PostgreSQL
-- records orders them, and the desired state builds though the words
-- read as cycles.
CREATE FUNCTION positive(n numeric) RETURNS boolean LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT n > 0 AS amount;
END;
CREATE DOMAIN amount AS numeric CHECK (positive(VALUE));

CREATE TABLE keep (id int PRIMARY KEY);
-- A column named as its type, and a check on it.
CREATE TABLE ledger (
    id int PRIMARY KEY,
    amount amount NOT NULL,
    CHECK (amount < 1000000)
);

CREATE TYPE pair AS (a int, holder int);
CREATE TYPE holder AS (x pair);
CREATE FUNCTION bump(p pair) RETURNS int LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT (p).a + 1 AS holder;
END;
