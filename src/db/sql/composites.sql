-- The composite types of the target schemas ($1) — standalone ones
-- (`CREATE TYPE … AS (…)`), not a table's row type: their attributes in
-- order, each with its type and a collation other than its type's (an
-- extension's types are the extension's).
SELECT n.nspname::text, t.typname::text,
       coalesce((SELECT json_agg(json_build_array(
                          a.attname::text,
                          format_type(a.atttypid, a.atttypmod),
                          CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation
                               THEN (SELECT quote_ident(c.collname) FROM pg_collation c
                                      WHERE c.oid = a.attcollation) END)
                        ORDER BY a.attnum)
                   FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
                  WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '[]')::text
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_class r ON r.oid = t.typrelid AND r.relkind = 'c'
 WHERE n.nspname = ANY($1) AND t.typtype = 'c'
   AND NOT EXISTS (SELECT 1 FROM pg_depend x
                    WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e')
 ORDER BY 1, 2
