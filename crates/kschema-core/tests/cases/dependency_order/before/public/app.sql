-- What the desired state drops, each naming another: dropped in reverse
-- of what it needs (the phases alone drop functions after tables and
-- types after functions).
CREATE TABLE old_orders (id bigint PRIMARY KEY, total numeric);
CREATE FUNCTION old_big() RETURNS SETOF old_orders LANGUAGE sql STABLE
    AS $$ SELECT * FROM old_orders $$;
CREATE FUNCTION old_positive(n numeric) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT n > 0 $$;
CREATE DOMAIN old_posnum AS numeric CHECK (old_positive(VALUE));
CREATE TYPE old_pair AS (a old_posnum, b old_posnum);
CREATE DOMAIN old_pair_d AS old_pair;
