-- A new shared table with options, a table dropped, a comment added.
CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL);
COMMENT ON TABLE plans IS 'What a customer pays for';

CREATE UNLOGGED TABLE rate_limits (
    key text PRIMARY KEY,
    hits int NOT NULL DEFAULT 0
) WITH (fillfactor = 70);
