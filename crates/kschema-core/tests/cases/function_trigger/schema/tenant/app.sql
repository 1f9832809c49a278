-- Each tenant's table calls the shared function from a trigger.
CREATE TABLE items (id int PRIMARY KEY, updated_at timestamptz);
CREATE TRIGGER items_touch BEFORE UPDATE ON items
    FOR EACH ROW EXECUTE FUNCTION touch();

-- A function whose argument is renamed (dropped and created again) under
-- a default, a check and an index: taken off before, put back after.
CREATE FUNCTION norm(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(s) $$;
CREATE TABLE people (
    id int PRIMARY KEY,
    email text DEFAULT norm('NOBODY'),
    CONSTRAINT people_email_normal CHECK (norm(email) = email)
);
CREATE INDEX people_norm ON people (norm(email));
