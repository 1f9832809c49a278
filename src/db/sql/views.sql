-- The views asked for (by oid, $1: one per signature, view_signatures.sql):
-- PostgreSQL's own text of each query (qualified where not on the reading
-- search path; the reader leaves the schema's own name out), its columns,
-- its options, the relations of its own schema it reads (from its rewrite
-- rule's dependencies), the columns of other schemas' relations it reads
-- ([schema, relation, column]; column null for a whole row), the
-- functions of its own schema it calls, and those of other schemas
-- ([schema, function]; PostgreSQL's own left out).
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
       c.relkind = 'm',
       (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(rn.nspname, r.relname, a.attname)), '[]')::text
          FROM pg_rewrite rw
          JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                          AND d.refclassid = 'pg_class'::regclass
          JOIN pg_class r ON r.oid = d.refobjid
          JOIN pg_namespace rn ON rn.oid = r.relnamespace
          LEFT JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
         WHERE rw.ev_class = c.oid AND r.relnamespace <> c.relnamespace
           AND rn.nspname NOT IN ('pg_catalog', 'information_schema')),
       ARRAY(SELECT DISTINCT p.proname::text
               FROM pg_rewrite rw
               JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                               AND d.refclassid = 'pg_proc'::regclass
               JOIN pg_proc p ON p.oid = d.refobjid
              WHERE rw.ev_class = c.oid AND p.pronamespace = c.relnamespace
              ORDER BY 1),
       (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(pn.nspname, p.proname)), '[]')::text
          FROM pg_rewrite rw
          JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                          AND d.refclassid = 'pg_proc'::regclass
          JOIN pg_proc p ON p.oid = d.refobjid
          JOIN pg_namespace pn ON pn.oid = p.pronamespace
         WHERE rw.ev_class = c.oid AND p.pronamespace NOT IN (c.relnamespace, 'pg_catalog'::regnamespace))
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid = ANY($1)
