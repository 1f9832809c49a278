CREATE TABLE secrets (id int PRIMARY KEY, owner text NOT NULL, value text);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY secrets_owner ON secrets USING (owner = 'nobody');
CREATE FUNCTION visible_owner(who text) RETURNS text LANGUAGE sql STABLE AS 'SELECT who';
CREATE POLICY secrets_visible ON secrets FOR SELECT USING (owner = visible_owner(current_user::text));
CREATE VIEW visible_secrets AS SELECT id FROM secrets WHERE owner = visible_owner(current_user::text);
