-- Privileges granted in the target schemas ($1), one row per object, role
-- and privilege: on views and sequences (a table's own and its columns'
-- are in its document, tables.sql), functions and procedures, and the
-- schemas themselves. What the owner holds, and
-- what PostgreSQL grants by default (acldefault: EXECUTE to PUBLIC on a
-- function, the owner's own rights), are not grants anyone wrote; nor is
-- public's `USAGE` to PUBLIC, which initdb gives every database.
-- Default privileges (`ALTER DEFAULT PRIVILEGES`) are rows too: a
-- schema's (kind `defaults`), and with public the database's own
-- (`global_defaults`), for the kind of object as pg_default_acl codes it
-- and for the role that creates them (null: the role kschema runs as).
-- The reader keeps the managed roles' and lists the others'.
WITH ns AS MATERIALIZED (
  SELECT oid, nspname::text AS nspname, nspowner, nspacl FROM pg_namespace WHERE nspname = ANY($1)
),
-- The relations extensions hold (pg_stat_statements' view, granted to
-- PUBLIC by the extension): theirs, not the files'. Found from the
-- extensions, a few hundred rows, not probed for every relation.
members AS MATERIALIZED (
  SELECT d.objid FROM pg_extension x
    JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = x.oid
   WHERE d.deptype = 'e' AND d.classid = 'pg_class'::regclass
),
-- The relations whose grants are read here: one pass over pg_class. Their
-- columns' grants are looked up from them (a scan of every column of a
-- fleet for the few with grants cost more than the rest of the read).
rels AS MATERIALIZED (
  SELECT c.oid, c.relnamespace, c.relkind, c.relname, c.relacl, c.relowner
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE c.relkind IN ('v', 'm', 'f', 'S')
     AND NOT EXISTS (SELECT 1 FROM members WHERE members.objid = c.oid)
)
SELECT ns.nspname, g.kind, g.object, g.detail, g.procedure,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END,
       a.privilege_type, a.is_grantable
  FROM (
    SELECT c.relnamespace AS nsp, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS kind,
           c.relname::text AS object, NULL::text AS detail, false AS procedure,
           c.relacl AS acl, c.relowner AS owner,
           CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char" AS acl_kind
      FROM rels c
     WHERE c.relacl IS NOT NULL
    UNION ALL
    SELECT c.relnamespace, 'column', c.relname::text, att.attname::text, false,
           att.attacl, c.relowner, 'c'::"char"
      FROM rels c
      JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0
     WHERE att.attacl IS NOT NULL AND NOT att.attisdropped AND c.relkind IN ('v', 'm', 'f')
    UNION ALL
    SELECT p.pronamespace, 'function', p.proname::text, oidvectortypes(p.proargtypes), p.prokind = 'p',
           p.proacl, p.proowner, 'f'::"char"
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
     WHERE p.proacl IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_depend e
                        WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
    UNION ALL
    SELECT ns.oid, 'schema', NULL, NULL, false, ns.nspacl, ns.nspowner, 'n'::"char"
      FROM ns WHERE ns.nspacl IS NOT NULL
    UNION ALL
    SELECT CASE WHEN da.defaclnamespace = 0 THEN (SELECT oid FROM ns WHERE nspname = 'public')
                ELSE da.defaclnamespace END,
           CASE WHEN da.defaclnamespace = 0 THEN 'global_defaults' ELSE 'defaults' END,
           da.defaclobjtype::text,
           CASE WHEN da.defaclrole <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
                THEN pg_get_userbyid(da.defaclrole)::text END,
           false, da.defaclacl, da.defaclrole,
           CASE da.defaclobjtype WHEN 'S' THEN 's' ELSE da.defaclobjtype END::"char"
      FROM pg_default_acl da
     WHERE da.defaclnamespace IN (SELECT oid FROM ns) OR da.defaclnamespace = 0
  ) g
  JOIN ns ON ns.oid = g.nsp
  CROSS JOIN LATERAL aclexplode(g.acl) a
 WHERE a.grantee <> g.owner
   AND NOT EXISTS (SELECT 1 FROM aclexplode(acldefault(g.acl_kind, g.owner)) d
                    WHERE d.grantee = a.grantee AND d.privilege_type = a.privilege_type)
   AND NOT (g.kind = 'schema' AND ns.nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'USAGE')
 ORDER BY 1, 2, 3, 4, 6, 7
