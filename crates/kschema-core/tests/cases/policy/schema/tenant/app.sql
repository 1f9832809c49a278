-- A policy changed, one added, row security forced.
CREATE TABLE secrets (id int PRIMARY KEY, owner text NOT NULL, value text);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY secrets_owner ON secrets USING (owner = current_user);
CREATE POLICY secrets_insert ON secrets FOR INSERT WITH CHECK (owner = current_user);

-- A function whose argument is renamed is dropped and created again: the
-- policy and the view that call it go before it and come back after.
CREATE FUNCTION visible_owner(person text) RETURNS text LANGUAGE sql STABLE AS 'SELECT person';
CREATE POLICY secrets_visible ON secrets FOR SELECT USING (owner = visible_owner(current_user::text));
CREATE VIEW visible_secrets AS SELECT id FROM secrets WHERE owner = visible_owner(current_user::text);
