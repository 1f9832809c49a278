CREATE FUNCTION concat_step(acc text, item text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN acc IS NULL THEN item ELSE acc || ', ' || item END $$;
CREATE AGGREGATE group_concat(text) (SFUNC = concat_step, STYPE = text);
CREATE AGGREGATE how_many(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0');
COMMENT ON AGGREGATE group_concat(text) IS 'joins with commas';
