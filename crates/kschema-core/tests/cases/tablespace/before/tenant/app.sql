CREATE TABLE notes (id bigint PRIMARY KEY, body text);
CREATE TABLE attachments (id bigint NOT NULL, note_id bigint);
