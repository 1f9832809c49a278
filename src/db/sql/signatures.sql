-- One row per table of the target schemas: schema, name, oid and an md5 of
-- every catalog field its document (tables.sql) is built from, without the
-- expensive deparsing. Tables with equal signatures have equal documents, so
-- only one table per signature is described in full: across a fleet of
-- identical tenants that is a handful of tables, not thousands.
--
-- Nothing here depends on the schema's own name: a foreign key into the same
-- schema is signed by the referenced table's name, a serial's default by its
-- sequence's name (the default's tree holds the sequence's oid).
WITH tbl AS MATERIALIZED (
  SELECT c.oid, c.relname, c.relnamespace, n.nspname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY($1)
     AND c.relkind IN ('r', 'p')
     AND NOT c.relispartition
),
serial AS (
  SELECT own.refobjid AS relid, own.refobjsubid AS attnum, s.relname
    FROM pg_depend own
    JOIN tbl ON tbl.oid = own.refobjid
    JOIN pg_class s ON s.oid = own.objid AND s.relkind = 'S'
    JOIN pg_attrdef d ON d.adrelid = own.refobjid AND d.adnum = own.refobjsubid
    JOIN pg_depend uses ON uses.classid = 'pg_attrdef'::regclass
                       AND uses.objid = d.oid
                       AND uses.refclassid = 'pg_class'::regclass
                       AND uses.refobjid = s.oid
   WHERE own.classid = 'pg_class'::regclass
     AND own.refclassid = 'pg_class'::regclass
     AND own.deptype = 'a'
),
cols AS (
  SELECT a.attrelid,
         md5(string_agg(concat_ws('|', a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull,
                              a.attidentity, a.attcollation,
                              CASE WHEN serial.relname IS NOT NULL THEN 'serial:' || serial.relname
                                   ELSE d.adbin::text END),
                    E'\n' ORDER BY a.attnum)) AS sig
    FROM pg_attribute a
    JOIN tbl ON tbl.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN serial ON serial.relid = a.attrelid AND serial.attnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped
   GROUP BY a.attrelid
),
cons AS (
  SELECT con.conrelid,
         md5(string_agg(concat_ws('|', con.conname, con.contype, con.conkey::text, con.confkey::text,
                              CASE WHEN rc.relnamespace = tbl.relnamespace THEN '' ELSE rn.nspname END,
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
                    E'\n' ORDER BY con.conname)) AS sig
    FROM pg_constraint con
    JOIN tbl ON tbl.oid = con.conrelid
    LEFT JOIN pg_class rc ON rc.oid = con.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    LEFT JOIN pg_index cix ON cix.indexrelid = con.conindid AND con.contype = 'u'
   WHERE con.contype IN ('p', 'u', 'c', 'f')
   GROUP BY con.conrelid
),
idx AS (
  SELECT ix.indrelid,
         md5(string_agg(concat_ws('|', ic.relname, ix.indisunique, ic.relam, ix.indisvalid, ix.indkey::text,
                              ix.indclass::text, ix.indoption::text, ix.indcollation::text, ix.indnkeyatts,
                              ix.indexprs::text, ix.indpred::text, /*INDEX_NULLS_NOT_DISTINCT*/,
                              (SELECT count(*) FROM pg_constraint own
                                WHERE own.conrelid = ix.indrelid AND own.conindid = ix.indexrelid
                                  AND own.contype IN ('p', 'u', 'x'))),
                    E'\n' ORDER BY ic.relname)) AS sig
    FROM pg_index ix
    JOIN tbl ON tbl.oid = ix.indrelid
    JOIN pg_class ic ON ic.oid = ix.indexrelid
   GROUP BY ix.indrelid
)
SELECT tbl.nspname AS schema_name,
       tbl.relname AS table_name,
       tbl.oid,
       concat_ws('.', cols.sig, cons.sig, idx.sig) AS signature
  FROM tbl
  LEFT JOIN cols ON cols.attrelid = tbl.oid
  LEFT JOIN cons ON cons.conrelid = tbl.oid
  LEFT JOIN idx ON idx.indrelid = tbl.oid
