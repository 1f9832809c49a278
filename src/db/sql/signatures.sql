-- Per table of the target schemas: an md5 of every catalog field its
-- document (tables.sql) is built from, without the expensive deparsing, in
-- three parts (columns, constraints, indexes) the caller combines. Tables
-- whose parts are all equal have equal documents, so only one table per
-- signature is described in full: across a fleet of identical tenants that
-- is a handful of tables, not thousands.
--
-- Nothing here depends on the schema's own name: a foreign key into the same
-- schema is signed by the referenced table's name, a serial's default by its
-- sequence's name (the default's tree holds the sequence's oid).
--
-- Three independent aggregates, each joining the catalogs directly: joining
-- them to one another (or through a CTE) made the planner sort and merge
-- hundreds of thousands of rows.
SELECT 'c' AS part, a.attrelid AS relid,
       md5(string_agg(concat_ws('|', a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull,
                                a.attidentity, a.attcollation,
                                CASE WHEN serial.seqname IS NOT NULL THEN 'serial:' || serial.seqname
                                     ELSE d.adbin::text END),
                      E'\n' ORDER BY a.attnum)) AS sig
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  -- A serial: the default is a plain nextval() of a sequence the column owns
  -- (the same test tables.sql makes), found by hash joins, not per row.
  LEFT JOIN (
    SELECT uses.objid AS attrdef, own.refobjid AS relid, own.refobjsubid AS attnum, s.relname AS seqname
      FROM pg_depend uses
      JOIN pg_class s ON s.oid = uses.refobjid AND s.relkind = 'S'
      JOIN pg_depend own ON own.classid = 'pg_class'::regclass AND own.objid = s.oid
                        AND own.refclassid = 'pg_class'::regclass AND own.deptype = 'a'
     WHERE uses.classid = 'pg_attrdef'::regclass AND uses.refclassid = 'pg_class'::regclass
  ) serial ON serial.attrdef = d.oid AND serial.relid = a.attrelid AND serial.attnum = a.attnum
 WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND a.attnum > 0 AND NOT a.attisdropped
 GROUP BY a.attrelid
UNION ALL
SELECT 'k', con.conrelid,
       md5(string_agg(concat_ws('|', con.conname, con.contype, con.conkey::text, con.confkey::text,
                                CASE WHEN rc.relnamespace = c.relnamespace THEN '' ELSE rn.nspname END,
                                rc.relname,
                                -- the referenced columns' names, which the document shows
                                CASE WHEN con.contype = 'f' THEN
                                  (SELECT string_agg(att.attname, ',' ORDER BY k.ord)
                                     FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                                     JOIN pg_attribute att ON att.attrelid = con.confrelid AND att.attnum = k.attnum)
                                END,
                                con.confdeltype, con.confupdtype, con.confmatchtype, con.condeferrable,
                                con.condeferred, con.convalidated, con.connoinherit, con.conbin::text,
                                /*CONSTRAINT_NULLS_NOT_DISTINCT*/),
                      E'\n' ORDER BY con.conname))
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class rc ON rc.oid = con.confrelid
  LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
  LEFT JOIN pg_index cix ON cix.indexrelid = con.conindid AND con.contype = 'u'
 WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND con.contype IN ('p', 'u', 'c', 'f')
 GROUP BY con.conrelid
UNION ALL
SELECT 'i', ix.indrelid,
       md5(string_agg(concat_ws('|', ic.relname, ix.indisunique, ic.relam, ix.indisvalid, ix.indkey::text,
                                ix.indclass::text, ix.indoption::text, ix.indcollation::text, ix.indnkeyatts,
                                ix.indexprs::text, ix.indpred::text, /*INDEX_NULLS_NOT_DISTINCT*/,
                                EXISTS (SELECT 1 FROM pg_constraint own
                                         WHERE own.conrelid = ix.indrelid AND own.conindid = ix.indexrelid
                                           AND own.contype IN ('p', 'u', 'x'))),
                      E'\n' ORDER BY ic.relname))
  FROM pg_index ix
  JOIN pg_class c ON c.oid = ix.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class ic ON ic.oid = ix.indexrelid
 WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 GROUP BY ix.indrelid
