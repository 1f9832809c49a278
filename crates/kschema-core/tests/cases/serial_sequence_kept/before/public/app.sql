-- Serials as a dump writes them, one sequence named after a table since
-- renamed, one of another type than its column.
CREATE TABLE jobs (id integer NOT NULL, name text);
CREATE SEQUENCE syncing_jobs_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE syncing_jobs_id_seq OWNED BY jobs.id;
ALTER TABLE ONLY jobs ALTER COLUMN id SET DEFAULT nextval('syncing_jobs_id_seq'::regclass);
CREATE TABLE accounts (id bigint NOT NULL);
CREATE SEQUENCE accounts_id_seq AS integer START WITH 2 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE accounts_id_seq OWNED BY accounts.id;
ALTER TABLE ONLY accounts ALTER COLUMN id SET DEFAULT nextval('accounts_id_seq'::regclass);
