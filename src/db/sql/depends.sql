-- What the objects of each schema asked for ($1: one per distinct shape)
-- need of the same schema, as pg_depend records it: the normal
-- dependencies (a column on its enum type, a key on the table it
-- references, a trigger on its function, a view on what it reads, an
-- atomic function on what its body names), each side named as kschema
-- names them (see model::Dependencies). An array type is its element's;
-- a composite type's attributes are the type's, a domain's checks the
-- domain's. Extensions' members are the extensions'.
WITH target AS (
  SELECT oid FROM pg_namespace WHERE nspname = ANY($1)
), referenced AS (
  SELECT 'pg_class'::regclass AS cls, c.oid, c.relnamespace AS ns, 'r' AS kind, c.relname::text AS name
    FROM pg_class c JOIN target s ON s.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid, t.typnamespace, 'r', coalesce(el.typname, t.typname)::text
    FROM pg_type t JOIN target s ON s.oid = t.typnamespace
    LEFT JOIN pg_type el ON el.oid = t.typelem AND t.typsubscript = 'array_subscript_handler'::regproc
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, p.pronamespace, 'f', p.proname::text
    FROM pg_proc p JOIN target s ON s.oid = p.pronamespace
), needs AS (
  SELECT r.ns, r.kind, r.name, d.classid, d.objid, d.objsubid
    FROM referenced r
    JOIN pg_depend d ON d.refclassid = r.cls AND d.refobjid = r.oid AND d.deptype = 'n'
   WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = r.cls AND e.objid = r.oid AND e.deptype = 'e')
     AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = d.classid AND e.objid = d.objid AND e.deptype = 'e')
)
SELECT n.nspname::text, dep.kind, dep.name, dep.detail, x.kind, x.name
  FROM needs x
  JOIN pg_namespace n ON n.oid = x.ns
  CROSS JOIN LATERAL (
    SELECT CASE WHEN c.relkind = 'i' THEN 'i' WHEN x.objsubid > 0 AND c.relkind <> 'c' THEN 'c' ELSE 'r' END AS kind,
           c.relname::text AS name,
           CASE WHEN x.objsubid > 0 AND c.relkind <> 'c' THEN a.attname::text END AS detail
      FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.objsubid AND x.objsubid > 0
     WHERE x.classid = 'pg_class'::regclass AND c.oid = x.objid AND c.relnamespace = x.ns
    UNION ALL
    SELECT 'r', t.typname::text, NULL FROM pg_type t
     WHERE x.classid = 'pg_type'::regclass AND t.oid = x.objid AND t.typnamespace = x.ns
    UNION ALL
    SELECT 'f', p.proname::text, NULL FROM pg_proc p
     WHERE x.classid = 'pg_proc'::regclass AND p.oid = x.objid AND p.pronamespace = x.ns
    UNION ALL
    SELECT CASE WHEN k.contypid <> 0 THEN 'r' ELSE 'k' END, coalesce(c.relname, t.typname)::text,
           CASE WHEN k.contypid = 0 THEN k.conname::text END
      FROM pg_constraint k LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
     WHERE x.classid = 'pg_constraint'::regclass AND k.oid = x.objid AND k.connamespace = x.ns
    UNION ALL
    SELECT 'c', c.relname::text, a.attname::text
      FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid
      JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
     WHERE x.classid = 'pg_attrdef'::regclass AND ad.oid = x.objid AND c.relnamespace = x.ns
    UNION ALL
    SELECT 't', c.relname::text, g.tgname::text
      FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
     WHERE x.classid = 'pg_trigger'::regclass AND g.oid = x.objid AND c.relnamespace = x.ns
    UNION ALL
    SELECT 'p', c.relname::text, o.polname::text
      FROM pg_policy o JOIN pg_class c ON c.oid = o.polrelid
     WHERE x.classid = 'pg_policy'::regclass AND o.oid = x.objid AND c.relnamespace = x.ns
    UNION ALL
    SELECT 'r', c.relname::text, NULL
      FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class
     WHERE x.classid = 'pg_rewrite'::regclass AND w.oid = x.objid AND c.relnamespace = x.ns
  ) dep
 -- An object is not its own dependency (a table's check on its row).
 WHERE NOT (dep.kind = x.kind AND dep.name = x.name)
