-- A policy changed, one added, row security forced.
CREATE TABLE secrets (id int PRIMARY KEY, owner text NOT NULL, value text);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY secrets_owner ON secrets USING (owner = current_user);
CREATE POLICY secrets_insert ON secrets FOR INSERT WITH CHECK (owner = current_user);
