CREATE TABLE secrets (id int PRIMARY KEY, owner text NOT NULL, value text);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY secrets_owner ON secrets USING (owner = 'nobody');
