CREATE TABLE items (id int PRIMARY KEY, updated_at timestamptz);
