-- The enum types of the target schemas ($1) and their labels in sort
-- order (an extension's are the extension's).
WITH ns AS MATERIALIZED (
  SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY($1)
),
-- Types extensions hold: found from the extensions (a few hundred rows),
-- not looked up for each label of each type.
members AS MATERIALIZED (
  SELECT d.objid FROM pg_depend d
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND d.classid = 'pg_type'::regclass
)
SELECT ns.nspname::text, t.typname::text,
       array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
  FROM pg_type t
  JOIN ns ON ns.oid = t.typnamespace
  JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE t.typtype = 'e'
   AND NOT EXISTS (SELECT 1 FROM members x WHERE x.objid = t.oid)
 GROUP BY 1, 2
 ORDER BY 1, 2
