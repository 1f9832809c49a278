-- The views asked for (by oid, $1: one per signature, view_signatures.sql):
-- PostgreSQL's own text of each query (qualified where not on the reading
-- search path; the reader leaves the schema's own name out), its columns,
-- its options, and the relations of its own schema it reads (from its
-- rewrite rule's dependencies).
SELECT c.oid, n.nspname::text, c.relname::text, pg_get_viewdef(c.oid),
       (SELECT coalesce(json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod))
                                 ORDER BY a.attnum), '[]')::text
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
       coalesce(c.reloptions, '{}')::text[],
       ARRAY(SELECT DISTINCT r.relname::text
               FROM pg_rewrite rw
               JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                               AND d.refclassid = 'pg_class'::regclass
               JOIN pg_class r ON r.oid = d.refobjid
              WHERE rw.ev_class = c.oid AND r.oid <> c.oid AND r.relnamespace = c.relnamespace
              ORDER BY 1),
       c.relkind = 'm'
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid = ANY($1)
