CREATE TABLE items (id int PRIMARY KEY, updated_at timestamptz);

-- A function whose argument is renamed (dropped and created again) under
-- a default, a check and an index: taken off before, put back after.
CREATE FUNCTION norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
CREATE TABLE people (
    id int PRIMARY KEY,
    email text DEFAULT norm('NOBODY'),
    CONSTRAINT people_email_normal CHECK (norm(email) = email)
);
CREATE INDEX people_norm ON people (norm(email));
