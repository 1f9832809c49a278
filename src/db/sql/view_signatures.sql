-- Per view (and materialized view: relkind 'm') of the target schemas ($1): what its definition is made of,
-- without deparsing it — its rule's query tree, and the names of the
-- objects of its own schema that tree may name by oid (relations, types,
-- functions: the oids differ per tenant, their names do not), its options,
-- its columns and (a materialized view's) its indexes as pg_index holds
-- them, but for their own oids.
-- Views whose trees read the same once those oids are named have the same
-- definition, so one view per such signature is deparsed (views.sql).
WITH ns AS MATERIALIZED (
  SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY($1)
),
-- Every relation, type and function of each schema, by oid (a column's
-- type is in a tree without being a dependency of it): one map per schema.
own AS (
  SELECT nsp, json_object_agg(oid::text, name)::text AS names
    FROM (SELECT r.relnamespace AS nsp, r.oid, 'rel:' || r.relname AS name
            FROM pg_class r JOIN ns ON ns.oid = r.relnamespace
           -- No query tree names an index (a fleet has more of them than
           -- of anything else).
           WHERE r.relkind NOT IN ('i', 'I')
          UNION ALL
          SELECT ty.typnamespace, ty.oid, 'type:' || ty.typname
            FROM pg_type ty JOIN ns ON ns.oid = ty.typnamespace
          UNION ALL
          -- Its arguments of the schema's own types by name (oidvectortypes
          -- qualifies them with the tenant's schema), others by oid.
          SELECT p.pronamespace, p.oid,
                 'proc:' || p.proname || '('
                 || (SELECT coalesce(string_agg(CASE WHEN t.typnamespace = p.pronamespace THEN 'own:' || t.typname
                                                     ELSE t.oid::text END, ',' ORDER BY a.n), '')
                       FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY a(typ, n)
                       JOIN pg_type t ON t.oid = a.typ)
                 || ')'
            FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
          -- An enum constant's value is its label's oid.
          UNION ALL
          SELECT ty.typnamespace, e.oid, 'label:' || ty.typname || '.' || e.enumlabel
            FROM pg_enum e JOIN pg_type ty ON ty.oid = e.enumtypid
            JOIN ns ON ns.oid = ty.typnamespace) o
   GROUP BY nsp
)
SELECT c.oid, ns.nspname::text, c.relname::text, rw.ev_action::text,
       coalesce(own.names, '{}'),
       coalesce(c.reloptions, '{}')::text[],
       (SELECT string_agg(a.attname || ' ' || CASE WHEN t.typnamespace = c.relnamespace THEN 'own:' || t.typname
                                                    ELSE a.atttypid::text END || ' ' || a.atttypmod,
                          ',' ORDER BY a.attnum)
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
       c.relkind = 'm',
       (SELECT string_agg(concat_ws(' ', ic.relname, ic.relam, ic.reloptions::text,
                                    (to_jsonb(x) - 'indexrelid' - 'indrelid')::text),
                          E'\n' ORDER BY ic.relname)
          FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
         WHERE x.indrelid = c.oid AND c.relkind = 'm')
  FROM pg_class c
  JOIN ns ON ns.oid = c.relnamespace
  -- Views are found from their rules, not by a scan of every relation:
  -- PostgreSQL's own views (oids below 16384) are left out before the
  -- join, so a fleet without views reads a handful of rows.
  JOIN pg_rewrite rw ON rw.ev_class = c.oid AND rw.rulename = '_RETURN' AND rw.ev_class >= 16384
  LEFT JOIN own ON own.nsp = c.relnamespace
 WHERE c.relkind IN ('v', 'm')
   AND NOT EXISTS (SELECT 1 FROM pg_depend e
                    WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
