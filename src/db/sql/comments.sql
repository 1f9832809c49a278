-- Comments on what the target schemas ($1) hold besides tables and their
-- columns (which tables.sql reads with them): indexes, constraints,
-- standalone sequences, views and materialized views and their columns, functions, enum and composite types
-- (and a composite's attributes), domains,
-- triggers and policies; and, with public, the database's extensions (but
-- plpgsql, which every database has) and event triggers. An extension's comment is read
-- whether its own script or the files set it: the desired state, built on
-- a server of the same version, has the same default.
-- What an extension's own objects carry is the extension's.
WITH ns AS MATERIALIZED (
  SELECT oid, nspname::text AS nspname FROM pg_namespace WHERE nspname = ANY($1)
),
-- What extensions hold: found from the extensions (a few hundred rows),
-- not looked up for each commented object.
members AS MATERIALIZED (
  SELECT d.classid, d.objid FROM pg_depend d
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
)
SELECT ns.nspname, c.kind, c.object, c.detail, c.procedure, c.description
  FROM (
    SELECT rel.relnamespace AS nsp,
           CASE rel.relkind WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence'
                WHEN 'c' THEN 'type_attribute'
                WHEN 'v' THEN CASE WHEN d.objsubid = 0 THEN 'view' ELSE 'view_column' END
                ELSE CASE WHEN d.objsubid = 0 THEN 'materialized_view' ELSE 'view_column' END END AS kind,
           rel.relname::text AS object,
           CASE WHEN d.objsubid > 0 THEN
             (SELECT attname::text FROM pg_attribute
               WHERE attrelid = rel.oid AND attnum = d.objsubid) END AS detail,
           false AS procedure, d.description
      FROM pg_description d
      JOIN pg_class rel ON d.classoid = 'pg_class'::regclass AND rel.oid = d.objoid
     -- A composite type's own comment is on its pg_type row (below); its
     -- attributes' are on its pg_class row.
     WHERE d.objoid >= 16384
       AND (rel.relkind IN ('i', 'S', 'v', 'm') OR rel.relkind = 'c' AND d.objsubid > 0)
       AND NOT (rel.relkind = 'S' AND EXISTS (
             SELECT 1 FROM pg_depend o
              WHERE o.classid = 'pg_class'::regclass AND o.objid = rel.oid
                AND o.deptype IN ('a', 'i')))
       AND NOT (rel.relkind = 'i' AND EXISTS (
             SELECT 1 FROM pg_constraint k WHERE k.conindid = rel.oid AND k.contype IN ('p', 'u', 'x')))
    UNION ALL
    SELECT rel.relnamespace, 'constraint', rel.relname::text, k.conname::text, false, d.description
      FROM pg_description d
      JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND k.oid = d.objoid
      JOIN pg_class rel ON rel.oid = k.conrelid
     WHERE d.objoid >= 16384
    UNION ALL
    SELECT p.pronamespace, 'function', p.proname::text, oidvectortypes(p.proargtypes),
           p.prokind = 'p', d.description
      FROM pg_description d
      JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
     WHERE d.objoid >= 16384
       AND NOT EXISTS (SELECT 1 FROM members e
                        WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
    UNION ALL
    SELECT t.typnamespace, CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, t.typname::text,
           NULL, false, d.description
      FROM pg_description d
      JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND t.oid = d.objoid
     WHERE d.objoid >= 16384
       AND (t.typtype IN ('e', 'd')
            OR t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c'))
       AND NOT EXISTS (SELECT 1 FROM members e
                        WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
    UNION ALL
    SELECT rel.relnamespace, 'trigger', rel.relname::text, tg.tgname::text, false, d.description
      FROM pg_description d
      JOIN pg_trigger tg ON d.classoid = 'pg_trigger'::regclass AND tg.oid = d.objoid
      JOIN pg_class rel ON rel.oid = tg.tgrelid
     WHERE d.objoid >= 16384 AND NOT tg.tgisinternal
    UNION ALL
    SELECT rel.relnamespace, 'policy', rel.relname::text, pol.polname::text, false, d.description
      FROM pg_description d
      JOIN pg_policy pol ON d.classoid = 'pg_policy'::regclass AND pol.oid = d.objoid
      JOIN pg_class rel ON rel.oid = pol.polrelid
     WHERE d.objoid >= 16384
    UNION ALL
    SELECT (SELECT oid FROM ns WHERE nspname = 'public'), 'extension', x.extname::text, NULL, false,
           d.description
      FROM pg_description d
      JOIN pg_extension x ON d.classoid = 'pg_extension'::regclass AND x.oid = d.objoid
     WHERE 'public' = ANY($1) AND x.extname <> 'plpgsql'
    UNION ALL
    SELECT (SELECT oid FROM ns WHERE nspname = 'public'), 'event_trigger', e.evtname::text, NULL, false,
           d.description
      FROM pg_description d
      JOIN pg_event_trigger e ON d.classoid = 'pg_event_trigger'::regclass AND e.oid = d.objoid
     WHERE 'public' = ANY($1)
  ) c
  JOIN ns ON ns.oid = c.nsp
 ORDER BY 1, 2, 3, 4
