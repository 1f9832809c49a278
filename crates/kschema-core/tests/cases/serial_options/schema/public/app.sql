-- A serial's sequence options, declared as pg_dump writes them: changed
-- in place on an existing serial, a serial widened keeping its own, and a
-- new table's serial created with them.
CREATE TABLE orders (id integer NOT NULL PRIMARY KEY, total int);
CREATE SEQUENCE orders_id_seq AS integer START WITH 1000 INCREMENT BY 10 CACHE 20;
ALTER SEQUENCE orders_id_seq OWNED BY orders.id;
ALTER TABLE ONLY orders ALTER COLUMN id SET DEFAULT nextval('orders_id_seq'::regclass);

CREATE TABLE refunds (id bigint NOT NULL PRIMARY KEY);
CREATE SEQUENCE refunds_id_seq AS bigint INCREMENT BY 2 MAXVALUE 1000000000;
ALTER SEQUENCE refunds_id_seq OWNED BY refunds.id;
ALTER TABLE ONLY refunds ALTER COLUMN id SET DEFAULT nextval('refunds_id_seq'::regclass);

CREATE TABLE invoices (id integer NOT NULL PRIMARY KEY);
CREATE SEQUENCE invoices_id_seq AS integer MINVALUE 100 MAXVALUE 999999 CYCLE;
ALTER SEQUENCE invoices_id_seq OWNED BY invoices.id;
ALTER TABLE ONLY invoices ALTER COLUMN id SET DEFAULT nextval('invoices_id_seq'::regclass);
