-- Per table asked for (by oid, $1): a signature of every catalog field its
-- document (tables.sql) is built from, without the expensive deparsing, in
-- four parts (c: columns, read by column_signatures.sql at the same time
-- on another connection; t: the table's own attributes, identity options
-- and comments; k: constraints, triggers and policies; i: indexes), plus
-- one 'f' row per foreign key naming the table it references. The caller
-- combines them: a foreign key's referenced column names are covered by
-- the referenced table's own 'c' part. Tables whose combined signatures
-- are equal have equal documents, so only one table per signature is
-- described in full: across a fleet of identical tenants that is a
-- handful of tables, not thousands.
--
-- Nothing here depends on a schema's own name or on oids: a serial's
-- default is signed by its sequence's name (the default's tree holds the
-- sequence's oid), a foreign key by the referenced table the caller looks up.
--
-- A part is the sum of a 64-bit hash of each of its lines, and their count:
-- a sum needs no ordering (string_agg(… ORDER BY …) sorted every line).
-- Two different versions of a table agreeing on both is a 2^-64 accident;
-- across every pair of versions of a table name in a fleet that stays
-- below one in a billion. (A second hash would halve that again and cost a
-- third of the query: lines hold whole expression trees.)
-- The tables asked for are joined as `unnest($1)`, not filtered by
-- `= ANY($1)`: the planner estimates an `= ANY` over thousands of oids one
-- element at a time, in each branch (30-60 ms of planning at 1,000
-- tenants).
SELECT part, relid, sum(line_hash)::text || '/' || count(*) AS sig,
       NULL::oid AS refers_to
  FROM (
    -- An identity column's sequence options, found from the sequences (a
    -- few) rather than from the tables' dependencies (many).
    SELECT 't' AS part, own.refobjid AS relid,
           hashtextextended(concat_ws('|', 'identity', own.refobjsubid, s.seqtypid, s.seqstart, s.seqincrement,
                     s.seqmin, s.seqmax, s.seqcache, s.seqcycle), 0) AS line_hash
      FROM pg_sequence s
      JOIN pg_depend own ON own.classid = 'pg_class'::regclass AND own.objid = s.seqrelid
                        AND own.refclassid = 'pg_class'::regclass AND own.deptype = 'i'
      JOIN unnest($1::oid[]) AS w(relid) ON w.relid = own.refobjid
    UNION ALL
    -- The table's own attributes, when not the defaults, its partition key
    -- and its bound: one pass over the tables, a line only for those that
    -- are partitioned, partitions or otherwise unusual (a fleet of plain
    -- tables adds no rows).
    SELECT 't', c.oid,
           hashtextextended(concat_ws('|', 'table', c.relkind, c.relpersistence, c.relreplident, c.reloptions::text, c.reltablespace,
                     c.relrowsecurity, c.relforcerowsecurity, c.relacl::text,
                     CASE WHEN c.relreplident = 'i' THEN
                       (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                         WHERE i.indrelid = c.oid AND i.indisreplident) END,
                     CASE WHEN c.relkind = 'p' THEN
                       (SELECT concat_ws('|', pt.partstrat, pt.partattrs::text, pt.partexprs::text,
                                         pt.partclass::text, pt.partcollation::text)
                          FROM pg_partitioned_table pt WHERE pt.partrelid = c.oid) END,
                     CASE WHEN c.relispartition THEN
                       (SELECT c.relpartbound::text || '|' || parent.relname
                          FROM pg_inherits inh JOIN pg_class parent ON parent.oid = inh.inhparent
                         WHERE inh.inhrelid = c.oid) END), 0)
      FROM unnest($1::oid[]) AS w(relid)
      JOIN pg_class c ON c.oid = w.relid
     WHERE c.relkind = 'p' OR c.relispartition OR c.relkind = 'r' AND (c.relpersistence <> 'p' OR c.relreplident <> 'd'
        OR c.reloptions IS NOT NULL OR c.reltablespace <> 0 OR c.relrowsecurity OR c.relforcerowsecurity
        OR c.relacl IS NOT NULL)
    UNION ALL
    -- Comments on the table and its columns: a line each, for commented
    -- tables only.
    SELECT 't', dsc.objoid, hashtextextended(concat_ws('|', 'comment', dsc.objsubid, dsc.description), 0)
      FROM unnest($1::oid[]) AS w(relid)
      JOIN pg_description dsc ON dsc.classoid = 'pg_class'::regclass AND dsc.objoid = w.relid
    UNION ALL
    SELECT 'k', con.conrelid,
           hashtextextended(concat_ws('|', con.conname, con.contype, con.conkey::text, con.confkey::text,
                     con.confdeltype, con.confupdtype, con.confmatchtype, con.condeferrable,
                     con.condeferred, con.convalidated, con.connoinherit, con.conbin::text,
                     con.conexclop::text), 0)
      FROM unnest($1::oid[]) AS w(relid)
      JOIN pg_constraint con ON con.conrelid = w.relid
     WHERE con.contype IN ('p', 'u', 'c', 'f', 'x')
    UNION ALL
    -- Triggers, by what their definition is made of; the function they run
    -- by name, and whether it is in the table's own schema (its oid differs
    -- per tenant).
    SELECT 'k', tg.tgrelid,
           hashtextextended(concat_ws('|', 'trigger', tg.tgname, tg.tgtype, tg.tgenabled, tg.tgconstraint <> 0,
                     p.proname, CASE WHEN p.pronamespace = wc.relnamespace THEN 'own'
                                     ELSE p.pronamespace::text END,
                     tg.tgargs, tg.tgattr::text, tg.tgqual, tg.tgoldtable, tg.tgnewtable,
                     tg.tgdeferrable, tg.tginitdeferred, cr.relname), 0)
      FROM unnest($1::oid[]) AS w(relid) JOIN pg_class wc ON wc.oid = w.relid
      JOIN pg_trigger tg ON tg.tgrelid = w.relid
      JOIN pg_proc p ON p.oid = tg.tgfoid
      LEFT JOIN pg_class cr ON cr.oid = tg.tgconstrrelid
     WHERE NOT tg.tgisinternal
    UNION ALL
    SELECT 'k', p.polrelid,
           hashtextextended(concat_ws('|', 'policy', p.polname, p.polpermissive, p.polcmd, p.polroles::text,
                     p.polqual::text, p.polwithcheck::text), 0)
      FROM unnest($1::oid[]) AS w(relid)
      JOIN pg_policy p ON p.polrelid = w.relid
    UNION ALL
    -- Every index, those behind constraints too (which also signs a key's
    -- INCLUDE columns, not in conkey, its storage parameters and a unique
    -- constraint's NULLS NOT DISTINCT). Which constraint owns an index
    -- needs no join: a key's index always bears its constraint's name,
    -- and the 'k' part signs the constraint.
    SELECT 'i', ix.indrelid,
           hashtextextended(concat_ws('|', ic.relname, ix.indisunique, ic.relam, ix.indisvalid, ix.indkey::text,
                     ix.indclass::text, ix.indoption::text, ix.indcollation::text, ix.indnkeyatts,
                     ix.indexprs::text, ix.indpred::text, /*INDEX_NULLS_NOT_DISTINCT*/,
                     ic.reloptions::text, ic.reltablespace), 0)
      FROM unnest($1::oid[]) AS w(relid)
      JOIN pg_index ix ON ix.indrelid = w.relid
      JOIN pg_class ic ON ic.oid = ix.indexrelid
  ) line_hashes
 GROUP BY part, relid
UNION ALL
SELECT 'f', con.conrelid, con.conname, con.confrelid
  FROM unnest($1::oid[]) AS w(relid)
  JOIN pg_constraint con ON con.conrelid = w.relid
 WHERE con.contype = 'f'
