-- One row per table of the target schemas: schema, name and a JSON document
-- of its columns, constraints and indexes. Nothing in the document depends
-- on the schema's own name (a reference into the same schema has a null
-- ref_schema; serial defaults are replaced by their sequence's name), so
-- identical tenant tables produce identical documents.
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       json_build_object(
         'columns', (
           SELECT coalesce(json_agg(json_build_object(
                    'name', a.attname,
                    'type', format_type(a.atttypid, a.atttypmod),
                    'not_null', a.attnotnull,
                    'default', CASE WHEN seq.relname IS NULL THEN pg_get_expr(d.adbin, d.adrelid) END,
                    'identity', a.attidentity,
                    'serial_sequence', seq.relname,
                    'collation', CASE WHEN a.attcollation <> t.typcollation THEN co.collname END
                  ) ORDER BY a.attnum), '[]')
             FROM pg_attribute a
             JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             LEFT JOIN pg_collation co ON co.oid = a.attcollation
             -- A serial: a sequence owned by the column whose nextval is the default.
             LEFT JOIN LATERAL (
               SELECT s.relname
                 FROM pg_depend own
                 JOIN pg_class s ON s.oid = own.objid AND s.relkind = 'S'
                WHERE own.classid = 'pg_class'::regclass
                  AND own.refclassid = 'pg_class'::regclass
                  AND own.refobjid = a.attrelid
                  AND own.refobjsubid = a.attnum
                  AND own.deptype = 'a'
                  AND d.oid IS NOT NULL
                  AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'
                  AND EXISTS (SELECT 1 FROM pg_depend uses
                               WHERE uses.classid = 'pg_attrdef'::regclass
                                 AND uses.objid = d.oid
                                 AND uses.refclassid = 'pg_class'::regclass
                                 AND uses.refobjid = s.oid)
                LIMIT 1
             ) seq ON true
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         ),
         'constraints', (
           SELECT coalesce(json_agg(json_build_object(
                    'name', con.conname,
                    'type', con.contype,
                    'columns', (SELECT coalesce(json_agg(att.attname ORDER BY k.ord), '[]')
                                  FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                                  JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.attnum),
                    'check', CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END,
                    'no_inherit', con.connoinherit,
                    'ref_schema', CASE WHEN con.contype = 'f' AND rc.relnamespace <> c.relnamespace THEN rn.nspname END,
                    'ref_table', rc.relname,
                    'ref_columns', (SELECT coalesce(json_agg(att.attname ORDER BY k.ord), '[]')
                                      FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                                      JOIN pg_attribute att ON att.attrelid = con.confrelid AND att.attnum = k.attnum),
                    'on_delete', con.confdeltype,
                    'on_update', con.confupdtype,
                    'match', con.confmatchtype,
                    'deferrable', con.condeferrable,
                    'deferred', con.condeferred,
                    'validated', con.convalidated,
                    'nulls_not_distinct', coalesce(ci.nulls_not_distinct, false)
                  ) ORDER BY con.conname), '[]')
             FROM pg_constraint con
             LEFT JOIN pg_class rc ON rc.oid = con.confrelid
             LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
             LEFT JOIN LATERAL (
               SELECT /*NULLS_NOT_DISTINCT*/ AS nulls_not_distinct
                 FROM pg_index cix WHERE cix.indexrelid = con.conindid AND con.contype = 'u'
             ) ci ON true
            WHERE con.conrelid = c.oid AND con.contype IN ('p', 'u', 'c', 'f')
         ),
         'indexes', (
           SELECT coalesce(json_agg(json_build_object(
                    'name', ic.relname,
                    'unique', ix.indisunique,
                    'method', am.amname,
                    'valid', ix.indisvalid,
                    'keys', (
                      SELECT json_agg(json_build_object(
                               'column', CASE WHEN k.attnum <> 0 THEN ka.attname END,
                               'expr', CASE WHEN k.attnum = 0 THEN pg_get_indexdef(ix.indexrelid, k.ord::int, true) END,
                               'opclass', CASE WHEN NOT opc.opcdefault THEN opc.opcname END,
                               'collation', CASE WHEN (ix.indcollation::oid[])[k.ord - 1] NOT IN (0, coalesce(ka.attcollation, 100))
                                                 THEN kc.collname END,
                               'desc', ((ix.indoption::int2[])[k.ord - 1] & 1) = 1,
                               'nulls_first', ((ix.indoption::int2[])[k.ord - 1] & 2) = 2
                             ) ORDER BY k.ord)
                        FROM unnest((ix.indkey::int2[])[0:ix.indnkeyatts - 1]) WITH ORDINALITY k(attnum, ord)
                        LEFT JOIN pg_attribute ka ON ka.attrelid = ix.indrelid AND ka.attnum = k.attnum
                        LEFT JOIN pg_opclass opc ON opc.oid = (ix.indclass::oid[])[k.ord - 1]
                        LEFT JOIN pg_collation kc ON kc.oid = (ix.indcollation::oid[])[k.ord - 1]
                    ),
                    'include', (SELECT coalesce(json_agg(ia.attname ORDER BY k.ord), '[]')
                                  FROM unnest((ix.indkey::int2[])[ix.indnkeyatts:ix.indnatts - 1]) WITH ORDINALITY k(attnum, ord)
                                  JOIN pg_attribute ia ON ia.attrelid = ix.indrelid AND ia.attnum = k.attnum),
                    'predicate', pg_get_expr(ix.indpred, ix.indrelid),
                    'nulls_not_distinct', /*NULLS_NOT_DISTINCT_IX*/
                  ) ORDER BY ic.relname), '[]')
             FROM pg_index ix
             JOIN pg_class ic ON ic.oid = ix.indexrelid
             JOIN pg_am am ON am.oid = ic.relam
            WHERE ix.indrelid = c.oid
              -- Indexes that implement a constraint belong to the constraint.
              AND NOT EXISTS (SELECT 1 FROM pg_constraint own
                               WHERE own.conrelid = ix.indrelid AND own.conindid = ix.indexrelid
                                 AND own.contype IN ('p', 'u', 'x'))
         )
       )::text AS document
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY($1)
   AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition
 ORDER BY 1, 2
