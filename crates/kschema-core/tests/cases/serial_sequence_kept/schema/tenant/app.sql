-- The renamed table's sequence takes its table's name; the bigint
-- column's sequence counts in bigint; a new table's serial draws from a
-- sequence declared apart (bigint, as CREATE SEQUENCE makes it).
CREATE TABLE jobs (id integer NOT NULL, name text);
CREATE SEQUENCE jobs_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE jobs_id_seq OWNED BY jobs.id;
ALTER TABLE ONLY jobs ALTER COLUMN id SET DEFAULT nextval('jobs_id_seq'::regclass);
CREATE TABLE accounts (id bigint NOT NULL);
CREATE SEQUENCE accounts_id_seq START WITH 2 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE accounts_id_seq OWNED BY accounts.id;
ALTER TABLE ONLY accounts ALTER COLUMN id SET DEFAULT nextval('accounts_id_seq'::regclass);
CREATE TABLE invites (id integer NOT NULL, code text);
CREATE SEQUENCE old_invite_numbers START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE old_invite_numbers OWNED BY invites.id;
ALTER TABLE ONLY invites ALTER COLUMN id SET DEFAULT nextval('old_invite_numbers'::regclass);
