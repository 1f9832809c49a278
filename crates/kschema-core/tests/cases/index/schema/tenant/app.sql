-- A partial unique index and a descending key.
CREATE TABLE documents (id int PRIMARY KEY, title text, deleted_at timestamptz);
CREATE INDEX documents_title_idx ON documents (title DESC NULLS LAST);
CREATE UNIQUE INDEX documents_live_title_key ON documents (title) WHERE deleted_at IS NULL;
