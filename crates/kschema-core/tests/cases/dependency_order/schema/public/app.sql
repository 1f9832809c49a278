-- Objects of several kinds, each naming another: created after what it
-- names, whatever the kinds' usual order.
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric NOT NULL);

-- A function returning a table's rows, and one taking a row.
CREATE FUNCTION big_orders() RETURNS SETOF orders LANGUAGE sql STABLE
    AS $$ SELECT * FROM orders WHERE total > 100 $$;
CREATE FUNCTION order_total(o orders) RETURNS numeric LANGUAGE sql IMMUTABLE
    AS $$ SELECT o.total $$;

-- A view, and a function returning its rows.
CREATE VIEW order_ids AS SELECT id FROM orders;
CREATE FUNCTION ids() RETURNS SETOF order_ids LANGUAGE sql STABLE
    AS $$ SELECT * FROM order_ids $$;

-- A domain whose check calls a function, a composite over the domain, a
-- domain over the composite, a composite over that.
CREATE FUNCTION positive(n numeric) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT n > 0 $$;
CREATE DOMAIN posnum AS numeric CHECK (positive(VALUE));
CREATE TYPE money_pair AS (a posnum, b posnum);
CREATE DOMAIN pair_d AS money_pair;
CREATE TYPE pair_holder AS (p pair_d);

-- A view reading a function, and a BEGIN ATOMIC function reading it.
CREATE VIEW big AS SELECT * FROM big_orders();
CREATE FUNCTION big_count() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM big;
END;
