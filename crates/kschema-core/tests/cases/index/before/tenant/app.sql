CREATE TABLE documents (id int PRIMARY KEY, title text, deleted_at timestamptz);
CREATE INDEX documents_title_idx ON documents (title);
