-- Per table asked for (by oid, $1): the columns part ('c') of its
-- signature. signatures.sql reads the other parts, on another connection
-- at the same time, and says how they combine. This is the largest part.
-- It runs without parallel workers (as every read of a plan does): the other
-- reads run beside it on a server's few cores, and workers, each building
-- its own share of the hash joins, cost half again in CPU what they save
-- in time alone. (Started before the table list, by schema, it ran
-- slower: it then competes with every other read for the server's cores.)
--
-- `= ANY($1)` on a large array is a hash lookup from PostgreSQL 14 on.
SELECT 'c' AS part, a.attrelid AS relid,
       sum(hashtextextended(concat_ws('|', a.attnum, a.attname, own_type.name, a.atttypmod, a.attnotnull,
                 a.attidentity, a.attgenerated, a.attcollation, a.attacl::text, owned.sequence,
                 -- The test tables.sql makes: nextval() of the sequence
                 -- and nothing else (introspect/tables.rs fills it in).
                 CASE WHEN owned.attrdef = d.oid AND /*IS_SERIAL_DEFAULT*/
                      THEN 'serial:' || owned.seqname
                      -- A default of a type of the table's own schema
                      -- holds that type's oid, which differs per tenant:
                      -- signed by its text, the qualifier of its cast
                      -- left out.
                      WHEN own_type.own AND d.adbin IS NOT NULL
                      THEN replace(pg_get_expr(d.adbin, 0),
                                   '::' || quote_ident((SELECT n.nspname FROM pg_class r
                                                         JOIN pg_namespace n ON n.oid = r.relnamespace
                                                        WHERE r.oid = a.attrelid)) || '.', '::')
                      ELSE d.adbin::text END), 0))::text || '/' || count(*) AS sig,
       NULL::oid AS refers_to
  FROM pg_attribute a
  -- A column of a type of the table's own schema (a tenant's enum) is
  -- signed by the type's name, not its oid. Looked up only for types
  -- created after initdb (oid 16384 on): joining every column to its
  -- table, schema and type cost a quarter of the query.
  CROSS JOIN LATERAL (
    SELECT CASE WHEN a.atttypid >= 16384 THEN
             (SELECT ty.typname FROM pg_type ty
                JOIN pg_class rel ON rel.oid = a.attrelid AND rel.relnamespace = ty.typnamespace
               WHERE ty.oid = a.atttypid) END AS own_name
  ) own_lookup
  CROSS JOIN LATERAL (
    SELECT own_lookup.own_name IS NOT NULL AS own,
           COALESCE('own:' || own_lookup.own_name, a.atttypid::text) AS name
  ) own_type
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  -- The sequence a column owns (a serial's, or one attached with OWNED
  -- BY), signed by its name, type and options (tables.sql lists those the
  -- model does not keep), and the default that uses it; found by hash
  -- joins.
  LEFT JOIN (
    SELECT own.refobjid AS relid, own.refobjsubid AS attnum, s.relname AS seqname,
           concat_ws('|', s.relname, sq.seqtypid, sq.seqstart, sq.seqincrement, sq.seqmin,
                     sq.seqmax, sq.seqcache, sq.seqcycle) AS sequence,
           uses.objid AS attrdef
      FROM pg_depend own
      JOIN pg_class s ON s.oid = own.objid AND s.relkind = 'S'
      JOIN pg_sequence sq ON sq.seqrelid = s.oid
      LEFT JOIN pg_depend uses ON uses.classid = 'pg_attrdef'::regclass
                              AND uses.refclassid = 'pg_class'::regclass AND uses.refobjid = s.oid
     WHERE own.classid = 'pg_class'::regclass AND own.refclassid = 'pg_class'::regclass
       AND own.deptype = 'a'
  ) owned ON owned.relid = a.attrelid AND owned.attnum = a.attnum
 WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
 GROUP BY a.attrelid
