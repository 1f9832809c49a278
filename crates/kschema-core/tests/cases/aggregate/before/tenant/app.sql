CREATE TABLE tags (id int PRIMARY KEY, name text);
CREATE FUNCTION longer(acc int, item text) RETURNS int LANGUAGE sql IMMUTABLE
    AS $$ SELECT greatest(acc, length(item)) $$;
CREATE AGGREGATE longest(text) (SFUNC = longer, STYPE = int, INITCOND = '0');
CREATE VIEW tag_list AS SELECT group_concat(name ORDER BY id) AS names, longest(name) AS longest FROM tags;
