-- Per table asked for (by oid, $1): a signature of every catalog field its
-- document (tables.sql) is built from, without the expensive deparsing, in
-- three parts (c: columns, k: constraints, i: indexes), plus one 'f' row per
-- foreign key naming the table it references. The caller combines them: a
-- foreign key's referenced column names are covered by the referenced
-- table's own 'c' part. Tables whose combined signatures are equal have
-- equal documents, so only one table per signature is described in full:
-- across a fleet of identical tenants that is a handful of tables, not
-- thousands.
--
-- Nothing here depends on a schema's own name or on oids: a serial's
-- default is signed by its sequence's name (the default's tree holds the
-- sequence's oid), a foreign key by the referenced table the caller looks up.
--
-- A part is the sum of a 64-bit hash of each of its lines, and their count:
-- a sum needs no ordering, so PostgreSQL aggregates in parallel workers
-- (string_agg(… ORDER BY …) ran single-threaded). Two different versions of
-- a table agreeing on both is a 2^-64 accident; across every pair of
-- versions of a table name in a fleet that stays below one in a billion.
-- (A second hash would halve that again and cost a third of the query:
-- lines hold whole expression trees.)
-- `= ANY($1)` on a large array is a hash lookup from PostgreSQL 14 on.
SELECT part, relid, sum(hashtextextended(line, 0))::text || '/' || count(*) AS sig,
       NULL::oid AS refers_to
  FROM (
    SELECT 'c' AS part, a.attrelid AS relid,
           concat_ws('|', a.attnum, a.attname, own_type.name, a.atttypmod, a.attnotnull,
                     a.attidentity, a.attgenerated, a.attcollation, a.attacl::text,
                     CASE WHEN serial.seqname IS NOT NULL THEN 'serial:' || serial.seqname
                          -- A default of a type of the table's own schema
                          -- holds that type's oid, which differs per
                          -- tenant: signed by its text, the qualifier of
                          -- its cast left out.
                          WHEN own_type.own AND d.adbin IS NOT NULL
                          THEN replace(pg_get_expr(d.adbin, 0),
                                       '::' || quote_ident(relns.nspname) || '.', '::')
                          ELSE d.adbin::text END) AS line
      FROM pg_attribute a
      -- A column of a type of the table's own schema (a tenant's enum) is
      -- signed by the type's name, not its oid.
      JOIN pg_class rel ON rel.oid = a.attrelid
      JOIN pg_namespace relns ON relns.oid = rel.relnamespace
      JOIN pg_type ty ON ty.oid = a.atttypid
      CROSS JOIN LATERAL (
        SELECT ty.typnamespace = rel.relnamespace AS own,
               CASE WHEN ty.typnamespace = rel.relnamespace THEN 'own:' || ty.typname
                    ELSE a.atttypid::text END AS name
      ) own_type
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      -- A serial: the default is a plain nextval() of a sequence the column
      -- owns (the same test tables.sql makes), found by hash joins.
      LEFT JOIN (
        SELECT uses.objid AS attrdef, own.refobjid AS relid, own.refobjsubid AS attnum,
               s.relname AS seqname
          FROM pg_depend uses
          JOIN pg_class s ON s.oid = uses.refobjid AND s.relkind = 'S'
          JOIN pg_depend own ON own.classid = 'pg_class'::regclass AND own.objid = s.oid
                            AND own.refclassid = 'pg_class'::regclass AND own.deptype = 'a'
         WHERE uses.classid = 'pg_attrdef'::regclass AND uses.refclassid = 'pg_class'::regclass
      ) serial ON serial.attrdef = d.oid AND serial.relid = a.attrelid AND serial.attnum = a.attnum
     WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    -- A partitioned table's key, a partition's parent and bound (a line
    -- only for the tables that are either).
    SELECT 'c', c.oid,
           concat_ws('|', 'partition', c.relkind, pt.partstrat, pt.partattrs::text, pt.partexprs::text,
                     pt.partclass::text, pt.partcollation::text, c.relpartbound::text, parent.relname)
      FROM pg_class c
      LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
      LEFT JOIN pg_inherits inh ON inh.inhrelid = c.oid AND c.relispartition
      LEFT JOIN pg_class parent ON parent.oid = inh.inhparent
     WHERE c.oid = ANY($1) AND (c.relkind = 'p' OR c.relispartition)
    UNION ALL
    -- An identity column's sequence options.
    SELECT 'c', own.refobjid,
           concat_ws('|', 'identity', own.refobjsubid, s.seqtypid, s.seqstart, s.seqincrement,
                     s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
      FROM pg_depend own
      JOIN pg_sequence s ON s.seqrelid = own.objid
     WHERE own.refobjid = ANY($1) AND own.classid = 'pg_class'::regclass
       AND own.refclassid = 'pg_class'::regclass AND own.deptype = 'i'
    UNION ALL
    -- The table's own attributes, when not the defaults (a line only for
    -- the tables that have any: a fleet of plain tables adds no rows).
    SELECT 'c', c.oid, concat_ws('|', 'table', c.relpersistence, c.relreplident, c.reloptions::text,
                                  c.relrowsecurity, c.relforcerowsecurity, c.relacl::text,
                                  CASE WHEN c.relreplident = 'i' THEN
                                    (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                                      WHERE i.indrelid = c.oid AND i.indisreplident) END)
      FROM pg_class c
     WHERE c.oid = ANY($1)
       AND (c.relpersistence <> 'p' OR c.relreplident <> 'd' OR c.reloptions IS NOT NULL
            OR c.relrowsecurity OR c.relforcerowsecurity OR c.relacl IS NOT NULL)
    UNION ALL
    -- Comments on the table and its columns: a line each, for commented
    -- tables only.
    SELECT 'c', dsc.objoid, concat_ws('|', 'comment', dsc.objsubid, dsc.description)
      FROM pg_description dsc
     WHERE dsc.classoid = 'pg_class'::regclass AND dsc.objoid = ANY($1)
    UNION ALL
    SELECT 'k', con.conrelid,
           concat_ws('|', con.conname, con.contype, con.conkey::text, con.confkey::text,
                     con.confdeltype, con.confupdtype, con.confmatchtype, con.condeferrable,
                     con.condeferred, con.convalidated, con.connoinherit, con.conbin::text,
                     con.conexclop::text)
      FROM pg_constraint con
     WHERE con.conrelid = ANY($1) AND con.contype IN ('p', 'u', 'c', 'f', 'x')
    UNION ALL
    -- Triggers, by what their definition is made of; the function they run
    -- by name, and whether it is in the table's own schema (its oid differs
    -- per tenant).
    SELECT 'k', tg.tgrelid,
           concat_ws('|', 'trigger', tg.tgname, tg.tgtype, tg.tgenabled, tg.tgconstraint <> 0,
                     p.proname, CASE WHEN p.pronamespace = c.relnamespace THEN 'own'
                                     ELSE p.pronamespace::text END,
                     tg.tgargs, tg.tgattr::text, tg.tgqual, tg.tgoldtable, tg.tgnewtable,
                     tg.tgdeferrable, tg.tginitdeferred, cr.relname)
      FROM pg_trigger tg
      JOIN pg_class c ON c.oid = tg.tgrelid
      JOIN pg_proc p ON p.oid = tg.tgfoid
      LEFT JOIN pg_class cr ON cr.oid = tg.tgconstrrelid
     WHERE tg.tgrelid = ANY($1) AND NOT tg.tgisinternal
    UNION ALL
    SELECT 'k', p.polrelid,
           concat_ws('|', 'policy', p.polname, p.polpermissive, p.polcmd, p.polroles::text,
                     p.polqual::text, p.polwithcheck::text)
      FROM pg_policy p
     WHERE p.polrelid = ANY($1)
    UNION ALL
    -- Every index, those behind constraints too (which also signs a unique
    -- constraint's NULLS NOT DISTINCT).
    SELECT 'i', ix.indrelid,
           concat_ws('|', ic.relname, ix.indisunique, ic.relam, ix.indisvalid, ix.indkey::text,
                     ix.indclass::text, ix.indoption::text, ix.indcollation::text, ix.indnkeyatts,
                     ix.indexprs::text, ix.indpred::text, /*INDEX_NULLS_NOT_DISTINCT*/,
                     own.contype, ic.reloptions::text)
      FROM pg_index ix
      JOIN pg_class ic ON ic.oid = ix.indexrelid
      LEFT JOIN pg_constraint own ON own.conrelid = ix.indrelid AND own.conindid = ix.indexrelid
                                 AND own.contype IN ('p', 'u', 'x')
     WHERE ix.indrelid = ANY($1)
  ) lines
 GROUP BY part, relid
UNION ALL
SELECT 'f', con.conrelid, con.conname, con.confrelid
  FROM pg_constraint con
 WHERE con.conrelid = ANY($1) AND con.contype = 'f'
