-- A tenant's serial given options; the standalone sequence dropped.
CREATE TABLE tickets (id bigint NOT NULL PRIMARY KEY);
CREATE SEQUENCE tickets_id_seq AS bigint START WITH 50 CACHE 10;
ALTER SEQUENCE tickets_id_seq OWNED BY tickets.id;
ALTER TABLE ONLY tickets ALTER COLUMN id SET DEFAULT nextval('tickets_id_seq'::regclass);
