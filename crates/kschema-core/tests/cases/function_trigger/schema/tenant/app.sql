-- Each tenant's table calls the shared function from a trigger.
CREATE TABLE items (id int PRIMARY KEY, updated_at timestamptz);
CREATE TRIGGER items_touch BEFORE UPDATE ON items
    FOR EACH ROW EXECUTE FUNCTION touch();
