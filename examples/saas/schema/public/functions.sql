-- Keeps updated_at current; every table with one has a trigger calling it,
-- the tenant tables too (they reach it through the search path).
CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION set_updated_at() IS 'Stamps updated_at on every UPDATE; called by the *_updated_at triggers.';
