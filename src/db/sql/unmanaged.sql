-- Everything in the target schemas ($1) that kschema does not manage yet:
-- one row per object (schema, kind, name), where the name never mentions
-- the schema (identical tenants give identical lists). Objects that belong
-- to an extension are the extension's, and listed as the extension alone.
-- Built-in objects (oid < 16384) are never listed.
--
-- Each kind is named by a code core's `unmanaged::UnmanagedKind` knows; a
-- code it does not know fails the read instead of vanishing.
--
-- Cheap on a fleet where there is nothing to list: one pass over pg_class
-- keeps only relations that are themselves unusual, and the other kinds
-- start from their own (small) catalogs and look their table up by oid.
WITH ns AS MATERIALIZED (
  SELECT oid, nspname::text AS nspname FROM pg_namespace WHERE nspname = ANY($1)
),
-- What extensions hold (listed as the extension alone): found from the
-- extensions, a few hundred rows, rather than looked up for each object.
members AS MATERIALIZED (
  SELECT d.classid, d.objid FROM pg_depend d
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
),
-- Relations with something to list about themselves, and those that are
-- not tables (views, materialized views, foreign tables), whose triggers
-- and policies are listed: found in the one pass over pg_class, so those
-- are looked up from these relations, not from every trigger's table.
rel AS MATERIALIZED (
  SELECT c.oid, c.relname, c.relnamespace, c.relkind, c.relispartition, c.reloptions,
         c.reltablespace, c.relreplident, ns.nspname
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE (c.relkind IN ('f', 'p', 'v', 'm') OR c.relispartition
          OR (c.relkind = 'r' AND c.relreplident = 'i')
          OR (c.relkind IN ('i', 'I') AND (c.reloptions IS NOT NULL OR c.reltablespace <> 0)))
     AND NOT EXISTS (SELECT 1 FROM members e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
),
-- Any table of the target schemas, looked up by oid (for objects that
-- hang off one): inlined, so each lookup is an index probe.
tbl AS NOT MATERIALIZED (
  SELECT c.oid, c.relname, c.relkind, c.relispartition, ns.nspname
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
)
SELECT nspname, kind, name FROM (
  -- Views, materialized views and their indexes, and composite types are
  -- managed (views.sql, tables.sql, composites.sql).
  SELECT nspname, 'foreign_table' AS kind, relname::text AS name
    FROM rel WHERE relkind = 'f'
  UNION ALL
  -- Partitions of a table in the same schema are managed (tables.sql).
  SELECT r.nspname, CASE WHEN r.relispartition THEN 'partition' ELSE 'inherited_table' END,
         format('%I (of %s)', r.relname,
                CASE WHEN p.relnamespace = c.relnamespace THEN quote_ident(p.relname)
                     ELSE format('%I.%I', pn.nspname, p.relname) END)
    FROM pg_inherits i
    JOIN tbl r ON r.oid = i.inhrelid
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace pn ON pn.oid = p.relnamespace
   WHERE r.relkind IN ('r', 'p', 'f')
     AND NOT (r.relispartition AND p.relnamespace = c.relnamespace)
  UNION ALL
  -- A partitioned table's storage parameters (a plain table's are managed).
  SELECT nspname, 'storage_parameters', format('%I (%s)', relname, array_to_string(reloptions, ', '))
    FROM rel WHERE reloptions IS NOT NULL AND relkind = 'p'
  UNION ALL
  -- A table's and an index's tablespace are managed (tables.sql); a
  -- materialized view's is not.
  SELECT t.nspname, 'tablespace', format('%I (%I)', t.relname, ts.spcname)
    FROM rel t JOIN pg_tablespace ts ON ts.oid = t.reltablespace
   WHERE t.relkind = 'm'
  UNION ALL
  -- USING INDEX an index since dropped: PostgreSQL sends nothing, and no
  -- statement says so.
  SELECT nspname, 'replica_identity', format('%I (USING INDEX, the index dropped)', relname)
    FROM rel
   WHERE relkind = 'r' AND relreplident = 'i'
     AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = rel.oid AND i.indisreplident)
  UNION ALL
  /*VIRTUAL_GENERATED_COLUMNS*/
  -- A column's own sequence with options the model does not keep (a
  -- serial's) or of another type than its column: listed from the table's
  -- document (tables.sql), once per distinct table.
  -- An index's storage parameters and tablespace are managed, a primary
  -- key's and a unique constraint's parameters too. Not: an exclusion
  -- constraint's parameters, a key's tablespace, a materialized view's
  -- index's tablespace, or a partition's copy of its parent's index in
  -- another tablespace than the parent's (the parent's is managed).
  SELECT i.nspname, 'index_options',
         format('%I (%s)', i.relname, concat_ws(', ',
           CASE WHEN i.reloptions IS NOT NULL AND own.contype = 'x'
                THEN array_to_string(i.reloptions, ', ') END,
           CASE WHEN i.reltablespace <> 0 AND (own.oid IS NOT NULL OR indexed.relkind = 'm' OR copy.oid IS NOT NULL)
                THEN 'TABLESPACE ' || quote_ident(ts.spcname) END))
    FROM rel i
    JOIN pg_index ix ON ix.indexrelid = i.oid
    JOIN pg_class indexed ON indexed.oid = ix.indrelid
    LEFT JOIN pg_tablespace ts ON ts.oid = i.reltablespace
    LEFT JOIN pg_constraint own ON own.conindid = i.oid AND own.contype IN ('p', 'u', 'x')
    LEFT JOIN LATERAL (SELECT parent.oid FROM pg_inherits inh JOIN pg_class parent ON parent.oid = inh.inhparent
                        WHERE inh.inhrelid = i.oid AND parent.reltablespace <> i.reltablespace) copy ON true
   WHERE i.relkind IN ('i', 'I')
     AND ((i.reloptions IS NOT NULL AND own.contype = 'x')
          OR (i.reltablespace <> 0 AND (own.oid IS NOT NULL OR indexed.relkind = 'm' OR copy.oid IS NOT NULL)))
  UNION ALL
  -- Triggers on what is not a table kschema manages (a table's own, a
  -- partitioned table's and a partition's are managed; a partition's copy
  -- of its parent's is the parent's).
  SELECT t.nspname, 'trigger', format('%I on %I', tg.tgname, t.relname)
    FROM rel t JOIN pg_trigger tg ON tg.tgrelid = t.oid
   WHERE NOT tg.tgisinternal AND tg.tgparentid = 0 AND t.relkind IN ('v', 'm', 'f')
  UNION ALL
  SELECT t.nspname, 'policy', format('%I on %I', p.polname, t.relname)
    FROM rel t JOIN pg_policy p ON p.polrelid = t.oid
   WHERE t.relkind IN ('v', 'm', 'f')
  UNION ALL
  SELECT t.nspname, 'rule', format('%I on %I', r.rulename, t.relname)
    FROM pg_rewrite r JOIN tbl t ON t.oid = r.ev_class
   WHERE r.rulename <> '_RETURN'
  UNION ALL
  -- Privileges on tables, columns, functions and schemas are read by
  -- privileges.sql (the managed roles' compared, the others' listed).
  -- Default privileges granted are read by privileges.sql; what the
  -- database's own take away from PostgreSQL's built-in ones is listed.
  SELECT 'public', 'default_privileges',
         format('for %s on %s (%s revoked)', pg_get_userbyid(da.defaclrole),
                CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                      WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END,
                string_agg(CASE WHEN d.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(d.grantee)::text END
                           || ' ' || d.privilege_type, ', ' ORDER BY d.grantee, d.privilege_type))
    FROM pg_default_acl da
    CROSS JOIN LATERAL aclexplode(acldefault(CASE da.defaclobjtype WHEN 'S' THEN 's' ELSE da.defaclobjtype END::"char",
                                             da.defaclrole)) d
   WHERE da.defaclnamespace = 0 AND 'public' = ANY($1)
     AND NOT EXISTS (SELECT 1 FROM aclexplode(da.defaclacl) a
                      WHERE a.grantee = d.grantee AND a.privilege_type = d.privilege_type)
   GROUP BY da.oid, da.defaclrole, da.defaclobjtype
  -- Functions of every kind are managed (functions.sql).
  UNION ALL
  SELECT ns.nspname,
         CASE t.typtype WHEN 'r' THEN 'range_type' ELSE 'base_type' END,
         quote_ident(t.typname)
    FROM ns JOIN pg_type t ON t.typnamespace = ns.oid
   -- Enums and domains are managed (enums.sql, domains.sql).
   WHERE t.oid >= 16384 AND t.typtype IN ('r', 'b') AND t.typcategory <> 'A'
     AND NOT EXISTS (SELECT 1 FROM members e
                      WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
  UNION ALL
  SELECT ns.nspname, 'collation', quote_ident(c.collname)
    FROM ns JOIN pg_collation c ON c.collnamespace = ns.oid
   WHERE c.oid >= 16384
     AND NOT EXISTS (SELECT 1 FROM members e
                      WHERE e.classid = 'pg_collation'::regclass AND e.objid = c.oid)
  UNION ALL
  SELECT ns.nspname, 'statistics', quote_ident(s.stxname)
    FROM ns JOIN pg_statistic_ext s ON s.stxnamespace = ns.oid
  UNION ALL
  SELECT ns.nspname, 'operator', format('%s(%s, %s)', o.oprname,
                                        coalesce(format_type(nullif(o.oprleft, 0), NULL), 'NONE'),
                                        format_type(o.oprright, NULL))
    FROM ns JOIN pg_operator o ON o.oprnamespace = ns.oid
   WHERE o.oid >= 16384
     AND NOT EXISTS (SELECT 1 FROM members e
                      WHERE e.classid = 'pg_operator'::regclass AND e.objid = o.oid)
  UNION ALL
  SELECT ns.nspname, 'text_search', quote_ident(c.cfgname)
    FROM ns JOIN pg_ts_config c ON c.cfgnamespace = ns.oid
   WHERE c.oid >= 16384
     AND NOT EXISTS (SELECT 1 FROM members e
                      WHERE e.classid = 'pg_ts_config'::regclass AND e.objid = c.oid)
  UNION ALL
  SELECT ns.nspname, 'text_search', quote_ident(d.dictname)
    FROM ns JOIN pg_ts_dict d ON d.dictnamespace = ns.oid
   WHERE d.oid >= 16384
     AND NOT EXISTS (SELECT 1 FROM members e
                      WHERE e.classid = 'pg_ts_dict'::regclass AND e.objid = d.oid)
  UNION ALL
  -- Comments on anything in the schema, and on the schema itself, but
  -- those kschema manages (comments.sql reads them, tables.sql a table's
  -- and its columns').
  SELECT ns.nspname, 'comment',
         CASE WHEN d.classoid = 'pg_namespace'::regclass THEN 'schema'
              ELSE o.type || ' ' || replace(o.identity, quote_ident(ns.nspname) || '.', '')
         END
    -- Tables' comments are left out before each comment's object is
    -- identified (a fleet with commented tables has thousands).
    FROM (SELECT * FROM pg_description dd
           WHERE dd.objoid >= 16384
             AND NOT (dd.classoid = 'pg_class'::regclass
                      AND EXISTS (SELECT 1 FROM pg_class rc
                                   WHERE rc.oid = dd.objoid
                                     AND (rc.relkind IN ('r', 'p') AND NOT rc.relispartition
                                          OR rc.relkind IN ('v', 'm')
                                          OR rc.relkind = 'c' AND dd.objsubid > 0
                                          OR rc.relkind = 'i' AND NOT EXISTS (
                                               SELECT 1 FROM pg_constraint k
                                                WHERE k.conindid = rc.oid AND k.contype IN ('p', 'u', 'x'))
                                          OR rc.relkind = 'S' AND NOT EXISTS (
                                               SELECT 1 FROM pg_depend o
                                                WHERE o.classid = 'pg_class'::regclass AND o.objid = rc.oid
                                                  AND o.deptype IN ('a', 'i')))))
             AND NOT (dd.classoid = 'pg_constraint'::regclass
                      AND EXISTS (SELECT 1 FROM pg_constraint k WHERE k.oid = dd.objoid AND k.conrelid <> 0))
             AND dd.classoid NOT IN ('pg_proc'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass)
             AND NOT (dd.classoid = 'pg_type'::regclass
                      AND EXISTS (SELECT 1 FROM pg_type t
                                   WHERE t.oid = dd.objoid
                                     AND (t.typtype IN ('e', 'd')
                                          OR t.typtype = 'c' AND EXISTS (
                                               SELECT 1 FROM pg_class r
                                                WHERE r.oid = t.typrelid AND r.relkind = 'c'))))
          OFFSET 0) d
    CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
    JOIN ns ON ns.nspname = o.schema OR (d.classoid = 'pg_namespace'::regclass AND d.objoid = ns.oid)
) found
ORDER BY 1, 2, 3
