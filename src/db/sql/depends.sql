-- What the objects named ($1, $2, $3: schema, `r` relation or type or
-- `f` function, name — each object of one schema per distinct shape) need
-- of the same schema (and the types they need of other schemas, with
-- their schema), as pg_depend records it: the normal dependencies (a
-- column on its enum type, a key on the table it references, a trigger on
-- its function, a view on what it reads, an atomic function on what its
-- body names), each side named as kschema names them (see
-- model::Dependencies).
--
-- Read from the dependents' side: a shared function every tenant's
-- triggers call is referenced thousands of times, its own schema's
-- objects a handful. Every step is an index scan: objects are looked up
-- by name (no catalog index leads with the schema), their parts by their
-- table. An array type is its element's; a composite type's attributes
-- are the type's, a domain's checks the domain's. Extensions' members are
-- the extensions'.
WITH wanted AS (
  SELECT n.oid AS ns, w.kind, w.name
    FROM unnest($1::text[], $2::text[], $3::text[]) AS w(schema, kind, name)
    JOIN pg_namespace n ON n.nspname = w.schema
), relations AS (
  SELECT c.oid, c.relnamespace AS ns, c.relname::text AS name, c.relkind
    FROM wanted w JOIN pg_class c ON c.relname = w.name AND c.relnamespace = w.ns
   WHERE w.kind = 'r' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
), types AS (
  SELECT t.oid, t.typnamespace AS ns, t.typname::text AS name
    FROM wanted w JOIN pg_type t ON t.typname = w.name AND t.typnamespace = w.ns
   WHERE w.kind = 'r' AND t.typtype IN ('d', 'e', 'r', 'm')
), dependents AS (
  -- (catalog, oid, schema, kind, name, part): a table's columns are told
  -- apart below, by the dependency's sub-object.
  SELECT 'pg_class'::regclass AS classid, r.oid AS objid, r.ns,
         CASE WHEN r.relkind IN ('r', 'p', 'f') THEN 'table' ELSE 'r' END AS kind, r.name, NULL::text AS part
    FROM relations r
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid, t.ns, 'r', t.name, NULL FROM types t
  UNION ALL
  SELECT 'pg_constraint'::regclass, k.oid, t.ns, 'r', t.name, NULL
    FROM types t JOIN pg_constraint k ON k.contypid = t.oid
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, p.pronamespace, 'f', p.proname::text, NULL
    FROM wanted w JOIN pg_proc p ON p.proname = w.name AND p.pronamespace = w.ns
   WHERE w.kind = 'f'
  UNION ALL
  SELECT 'pg_constraint'::regclass, k.oid, r.ns, 'k', r.name, k.conname::text
    FROM relations r JOIN pg_constraint k ON k.conrelid = r.oid
  UNION ALL
  SELECT 'pg_attrdef'::regclass, ad.oid, r.ns, 'c', r.name, a.attname::text
    FROM relations r JOIN pg_attrdef ad ON ad.adrelid = r.oid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  UNION ALL
  SELECT 'pg_trigger'::regclass, g.oid, r.ns, 't', r.name, g.tgname::text
    FROM relations r JOIN pg_trigger g ON g.tgrelid = r.oid AND NOT g.tgisinternal
  UNION ALL
  SELECT 'pg_policy'::regclass, o.oid, r.ns, 'p', r.name, o.polname::text
    FROM relations r JOIN pg_policy o ON o.polrelid = r.oid
  UNION ALL
  SELECT 'pg_rewrite'::regclass, w.oid, r.ns, 'r', r.name, NULL
    FROM relations r JOIN pg_rewrite w ON w.ev_class = r.oid
  UNION ALL
  SELECT 'pg_class'::regclass, i.indexrelid, r.ns, 'i', c.relname::text, NULL
    FROM relations r JOIN pg_index i ON i.indrelid = r.oid
    JOIN pg_class c ON c.oid = i.indexrelid
)
SELECT n.nspname::text,
       CASE WHEN x.kind <> 'table' THEN x.kind WHEN d.objsubid > 0 THEN 'c' ELSE 'r' END,
       x.name,
       CASE WHEN x.kind = 'table' AND d.objsubid > 0
            THEN (SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = x.objid AND a.attnum = d.objsubid)
            ELSE x.part END,
       needed.kind, needed.name, needed.schema
  FROM dependents x
  JOIN pg_namespace n ON n.oid = x.ns
  -- (OFFSET 0 keeps each lookup one per row: the planner's estimate of
  -- the dependents would otherwise hash the whole of pg_depend.)
  CROSS JOIN LATERAL (SELECT * FROM pg_depend d
                       WHERE d.classid = x.classid AND d.objid = x.objid AND d.deptype = 'n'
                      OFFSET 0) d
  CROSS JOIN LATERAL (
    SELECT 'r' AS kind, c.relname::text AS name, NULL::text AS schema
      FROM pg_class c
     WHERE d.refclassid = 'pg_class'::regclass AND c.oid = d.refobjid AND c.relnamespace = x.ns
       AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
    UNION ALL
    -- A type of another schema (a shared enum a tenant's default names)
    -- with its schema: a shared type created again must take along what
    -- names it.
    SELECT 'r', coalesce(el.typname, t.typname)::text,
           CASE WHEN tn.oid <> x.ns THEN tn.nspname::text END
      FROM pg_type t
      LEFT JOIN pg_type el ON el.oid = t.typelem AND t.typsubscript = 'array_subscript_handler'::regproc
      JOIN pg_namespace tn ON tn.oid = coalesce(el.typnamespace, t.typnamespace)
     WHERE d.refclassid = 'pg_type'::regclass AND t.oid = d.refobjid
       AND tn.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'f', p.proname::text, NULL
      FROM pg_proc p
     WHERE d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid AND p.pronamespace = x.ns
  ) needed
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                    WHERE e.classid = d.refclassid AND e.objid = d.refobjid AND e.deptype = 'e'
                   OFFSET 0)
   -- An object is not its own dependency (a table's check on its row).
   AND NOT (needed.schema IS NULL AND needed.kind = x.kind AND needed.name = x.name)
   AND NOT (needed.schema IS NULL AND x.kind = 'table' AND needed.name = x.name)
