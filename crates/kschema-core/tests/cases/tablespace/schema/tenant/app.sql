-- As pg_dump writes a table and an index in a tablespace: under SET
-- default_tablespace.
SET default_tablespace = '';

CREATE TABLE notes (
    id bigint NOT NULL,
    body text
);

SET default_tablespace = kschema_case_space;

CREATE TABLE attachments (
    id bigint NOT NULL,
    note_id bigint
);

CREATE INDEX attachments_note_idx ON attachments USING btree (note_id);

SET default_tablespace = '';

ALTER TABLE ONLY notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (id);
