-- The domains of the target schemas ($1): base type, collation when not
-- the base type's, default, NOT NULL, and CHECK constraints by name (an
-- extension's domains are the extension's).
SELECT n.nspname::text, t.typname::text,
       format_type(t.typbasetype, t.typtypmod),
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation
            THEN (SELECT quote_ident(c.collname) FROM pg_collation c WHERE c.oid = t.typcollation) END,
       pg_get_expr(t.typdefaultbin, 0),
       t.typnotnull,
       coalesce((SELECT json_agg(json_build_array(k.conname::text, pg_get_constraintdef(k.oid), k.convalidated)
                                 ORDER BY k.conname)
                   FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), '[]')::text
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_type b ON b.oid = t.typbasetype
 WHERE n.nspname = ANY($1) AND t.typtype = 'd'
   AND NOT EXISTS (SELECT 1 FROM pg_depend x
                    WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e')
 ORDER BY 1, 2
