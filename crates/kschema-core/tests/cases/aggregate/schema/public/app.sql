-- group_concat gains a final function of another result type: dropped and
-- created again, the tenants' views calling it with it. how_many goes; a
-- moving-aggregate sum of squares with a combine function is new.
CREATE FUNCTION concat_step(acc text, item text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN acc IS NULL THEN item ELSE acc || ', ' || item END $$;
CREATE FUNCTION to_list(acc text) RETURNS text[] LANGUAGE sql IMMUTABLE
    AS $$ SELECT string_to_array(acc, ', ') $$;
CREATE AGGREGATE group_concat(text) (SFUNC = concat_step, STYPE = text, FINALFUNC = to_list);
COMMENT ON AGGREGATE group_concat(text) IS 'a list';

CREATE FUNCTION add_square(acc numeric, x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT acc + x * x $$;
CREATE FUNCTION take_square(acc numeric, x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT acc - x * x $$;
CREATE AGGREGATE sum_of_squares(numeric) (
    SFUNC = add_square, STYPE = numeric, INITCOND = '0',
    COMBINEFUNC = numeric_add, PARALLEL = SAFE,
    MSFUNC = add_square, MINVFUNC = take_square, MSTYPE = numeric, MINITCOND = '0'
);

-- A window function (internal code) is new; the tenants number their tags
-- with it.
CREATE FUNCTION row_no() RETURNS bigint LANGUAGE internal WINDOW IMMUTABLE AS 'window_row_number';
