-- A trigger function kept, one body replaced, a procedure added.
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE
    RETURN a + b;

CREATE PROCEDURE noop() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
