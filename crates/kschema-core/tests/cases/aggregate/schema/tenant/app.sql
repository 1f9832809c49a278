-- The tenant's own aggregate gets another initial state (replaced in place);
-- a view numbers the tags with the new window function.
CREATE TABLE tags (id int PRIMARY KEY, name text);
CREATE FUNCTION longer(acc int, item text) RETURNS int LANGUAGE sql IMMUTABLE
    AS $$ SELECT greatest(acc, length(item)) $$;
CREATE AGGREGATE longest(text) (SFUNC = longer, STYPE = int, INITCOND = '-1');
CREATE VIEW tag_list AS SELECT group_concat(name ORDER BY id) AS names, longest(name) AS longest FROM tags;
CREATE VIEW numbered_tags AS SELECT id, row_no() OVER (ORDER BY id) AS n FROM tags;
