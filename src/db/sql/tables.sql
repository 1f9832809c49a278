-- One row per table asked for (by oid, $1): schema, name and a JSON document
-- of its columns, constraints and indexes. Nothing in the document depends
-- on the schema's own name (a reference into the same schema has a null
-- ref_schema; a serial's default is replaced by its sequence's name), so
-- identical tenant tables produce identical documents.
--
-- Set-based on purpose: each catalog is joined once for all tables (hash
-- joins), never once per table.
WITH tbl AS MATERIALIZED (
  SELECT c.oid, c.relname, c.relnamespace, n.nspname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = ANY($1)
),
-- A serial: a sequence owned by the column whose default is nextval() of
-- it and nothing else (`nextval(s) * 2` is a default of its own; the test
-- is introspect/tables.rs's `serial_default_test`).
serial AS (
  SELECT own.refobjid AS relid, own.refobjsubid AS attnum, s.relname, s.oid AS seqoid, sq.seqtypid,
         json_build_object('start', sq.seqstart, 'increment', sq.seqincrement,
                           'min_value', sq.seqmin, 'max_value', sq.seqmax,
                           'cache', sq.seqcache, 'cycle', sq.seqcycle) AS options
    FROM pg_depend own
    JOIN tbl ON tbl.oid = own.refobjid
    JOIN pg_class s ON s.oid = own.objid AND s.relkind = 'S'
    JOIN pg_sequence sq ON sq.seqrelid = s.oid
    JOIN pg_attrdef d ON d.adrelid = own.refobjid AND d.adnum = own.refobjsubid
    JOIN pg_depend uses ON uses.classid = 'pg_attrdef'::regclass
                       AND uses.objid = d.oid
                       AND uses.refclassid = 'pg_class'::regclass
                       AND uses.refobjid = s.oid
   WHERE own.classid = 'pg_class'::regclass
     AND own.refclassid = 'pg_class'::regclass
     AND own.deptype = 'a'
     AND /*IS_SERIAL_DEFAULT*/
),
-- Sequences the table's columns own that say more than the model keeps:
-- the options of an OWNED BY sequence that is no serial's (a default
-- computed from it), or its or an identity's type other than its
-- column's (an identity's and a serial's options, and a serial's type,
-- are managed). Listed, not compared, by the reader; a partition's
-- columns are its parent's.
sequence_notes AS (
  SELECT own.refobjid AS relid,
         json_agg(format('%I.%I (%s)', c.relname, a.attname, concat_ws(', ',
           CASE WHEN serial.seqoid IS NULL AND s.seqstart <> 1 THEN 'START ' || s.seqstart END,
           CASE WHEN serial.seqoid IS NULL AND s.seqincrement <> 1 THEN 'INCREMENT ' || s.seqincrement END,
           CASE WHEN serial.seqoid IS NULL AND s.seqmin <> 1 THEN 'MINVALUE ' || s.seqmin END,
           CASE WHEN serial.seqoid IS NULL AND s.seqmax <> CASE s.seqtypid WHEN 'int2'::regtype THEN 32767
                                                 WHEN 'int4'::regtype THEN 2147483647
                                                 ELSE 9223372036854775807 END
                THEN 'MAXVALUE ' || s.seqmax END,
           CASE WHEN serial.seqoid IS NULL AND s.seqcache <> 1 THEN 'CACHE ' || s.seqcache END,
           CASE WHEN serial.seqoid IS NULL AND s.seqcycle THEN 'CYCLE' END,
           CASE WHEN serial.seqoid IS NULL AND s.seqtypid <> a.atttypid THEN 'AS ' || format_type(s.seqtypid, NULL) END))
           ORDER BY a.attnum, s.seqrelid) AS notes
    FROM pg_depend own
    JOIN tbl ON tbl.oid = own.refobjid
    JOIN pg_class c ON c.oid = own.refobjid AND NOT c.relispartition
    JOIN pg_sequence s ON s.seqrelid = own.objid
    JOIN pg_attribute a ON a.attrelid = own.refobjid AND a.attnum = own.refobjsubid
    LEFT JOIN serial ON serial.seqoid = s.seqrelid
   WHERE own.classid = 'pg_class'::regclass
     AND own.refclassid = 'pg_class'::regclass
     AND own.deptype IN ('a', 'i')
     AND (serial.seqoid IS NULL AND s.seqtypid <> a.atttypid
          OR own.deptype = 'a' AND serial.seqoid IS NULL AND (
             s.seqstart <> 1 OR s.seqincrement <> 1 OR s.seqmin <> 1 OR s.seqcache <> 1 OR s.seqcycle
             OR s.seqmax <> CASE s.seqtypid WHEN 'int2'::regtype THEN 32767
                                            WHEN 'int4'::regtype THEN 2147483647
                                            ELSE 9223372036854775807 END))
   GROUP BY own.refobjid
),
-- An identity column's sequence (PostgreSQL's own dependency, 'i').
identity_seq AS (
  SELECT own.refobjid AS relid, own.refobjsubid AS attnum,
         json_build_object('start', s.seqstart, 'increment', s.seqincrement,
                           'min_value', s.seqmin, 'max_value', s.seqmax,
                           'cache', s.seqcache, 'cycle', s.seqcycle) AS options
    FROM pg_depend own
    JOIN tbl ON tbl.oid = own.refobjid
    JOIN pg_sequence s ON s.seqrelid = own.objid
   WHERE own.classid = 'pg_class'::regclass
     AND own.refclassid = 'pg_class'::regclass
     AND own.deptype = 'i'
),
cols AS (
  SELECT a.attrelid,
         json_agg(json_build_object(
           'name', a.attname,
           'type', format_type(a.atttypid, a.atttypmod),
           'not_null', a.attnotnull,
           -- relid 0: a default mentions no column, and pg_get_expr with a
           -- relation would lock it (a table locked by a migration must not
           -- stall the whole introspection).
           -- A generated column's expression is not a default (and names
           -- columns, which relid 0 cannot deparse): unmanaged.sql lists it.
           'default', CASE WHEN serial.relname IS NULL AND a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) END,
           'identity', a.attidentity,
           'serial_sequence', serial.relname,
           'serial_options', serial.options,
           -- A serial's sequence counting in another type than its
           -- column's (the column retyped after it was made).
           'serial_type', CASE WHEN serial.seqtypid <> a.atttypid THEN format_type(serial.seqtypid, NULL) END,
           'identity_sequence', identity_seq.options,
           'collation', CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
           -- A stored generated column's expression names columns: it
           -- needs its relation (a share lock, bounded by lock_timeout).
           'generated', CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END,
           'comment', col_description(a.attrelid, a.attnum)
         ) ORDER BY a.attnum) AS columns
    FROM pg_attribute a
    JOIN tbl ON tbl.oid = a.attrelid
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN serial ON serial.relid = a.attrelid AND serial.attnum = a.attnum
    LEFT JOIN identity_seq ON identity_seq.relid = a.attrelid AND identity_seq.attnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
   WHERE a.attnum > 0 AND NOT a.attisdropped
   GROUP BY a.attrelid
),
-- A partition's columns are its parent's, but for a default or NOT NULL
-- it sets itself: the default when it differs from the parent's (relid 0,
-- as above), NOT NULL when the parent's column lacks it. A default the
-- partition dropped while its parent has one is listed by unmanaged.sql.
part_cols AS (
  SELECT a.attrelid,
         json_agg(json_build_object(
           'name', a.attname,
           -- Its own default; NULL where it dropped its parent's (as
           -- `c DEFAULT NULL` in its CREATE TABLE leaves it).
           'default', CASE WHEN d.adbin IS NOT NULL
                            AND pg_get_expr(d.adbin, 0) IS DISTINCT FROM pg_get_expr(pd.adbin, 0)
                           THEN pg_get_expr(d.adbin, 0)
                           WHEN d.adbin IS NULL AND pd.adbin IS NOT NULL THEN 'NULL' END,
           'not_null', a.attnotnull AND NOT pa.attnotnull
         ) ORDER BY a.attnum) AS columns
    FROM tbl
    JOIN pg_class rel ON rel.oid = tbl.oid AND rel.relispartition
    JOIN pg_inherits inh ON inh.inhrelid = rel.oid
    JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_attribute pa ON pa.attrelid = inh.inhparent AND pa.attname = a.attname
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum
   WHERE a.attgenerated = ''
     AND (a.attnotnull AND NOT pa.attnotnull
          OR d.adbin IS NOT NULL AND pg_get_expr(d.adbin, 0) IS DISTINCT FROM pg_get_expr(pd.adbin, 0)
          OR d.adbin IS NULL AND pd.adbin IS NOT NULL)
   GROUP BY a.attrelid
),
-- Column names by number, for constraint and index keys.
named_keys AS (
  SELECT con.oid AS conid,
         (SELECT coalesce(json_agg(att.attname ORDER BY k.ord), '[]')
            FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
            JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.attnum) AS columns,
         (SELECT coalesce(json_agg(att.attname ORDER BY k.ord), '[]')
            FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
            JOIN pg_attribute att ON att.attrelid = con.confrelid AND att.attnum = k.attnum) AS ref_columns
    FROM pg_constraint con
    JOIN tbl ON tbl.oid = con.conrelid
   WHERE con.contype IN ('p', 'u', 'c', 'f', 'x')
),
cons AS (
  SELECT con.conrelid,
         json_agg(json_build_object(
           'name', con.conname,
           'type', con.contype,
           'columns', nk.columns,
           -- pg_get_constraintdef takes no lock on the table, pg_get_expr would.
           'definition', CASE WHEN con.contype = 'x' THEN pg_get_constraintdef(con.oid) END,
           'check', CASE WHEN con.contype = 'c'
                         THEN regexp_replace(pg_get_constraintdef(con.oid), '^CHECK \((.*)\)( NO INHERIT)?( NOT VALID)?$', '\1')
                    END,
           'no_inherit', con.connoinherit,
           'ref_schema', CASE WHEN con.contype = 'f' AND rc.relnamespace <> tbl.relnamespace THEN rn.nspname END,
           'ref_table', rc.relname,
           'ref_columns', nk.ref_columns,
           'on_delete', con.confdeltype,
           'on_update', con.confupdtype,
           'match', con.confmatchtype,
           'deferrable', con.condeferrable,
           'deferred', con.condeferred,
           'validated', con.convalidated,
           'nulls_not_distinct', coalesce(/*CONSTRAINT_NULLS_NOT_DISTINCT*/, false),
           -- A key's INCLUDE columns: its index's columns past the key's.
           'include', (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')
                         FROM pg_index ki
                         CROSS JOIN LATERAL unnest(ki.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_attribute a ON a.attrelid = ki.indrelid AND a.attnum = k.attnum
                        WHERE con.contype IN ('p', 'u') AND ki.indexrelid = con.conindid
                          AND k.ord > ki.indnkeyatts),
           'options', (SELECT kc.reloptions FROM pg_class kc
                        WHERE con.contype IN ('p', 'u') AND kc.oid = con.conindid)
         ) ORDER BY con.conname) AS constraints
    FROM pg_constraint con
    JOIN tbl ON tbl.oid = con.conrelid
    JOIN named_keys nk ON nk.conid = con.oid
    LEFT JOIN pg_class rc ON rc.oid = con.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    LEFT JOIN pg_index cix ON cix.indexrelid = con.conindid AND con.contype = 'u'
   -- A partition's copies of its parent's constraints are the parent's.
   WHERE con.conparentid = 0 AND con.conislocal
   GROUP BY con.conrelid
),
-- Indexes that implement a constraint belong to the constraint; a
-- partition's copies of its parent's indexes are the parent's.
plain_index AS (
  SELECT ix.*
    FROM pg_index ix
    JOIN tbl ON tbl.oid = ix.indrelid
   WHERE NOT EXISTS (SELECT 1 FROM pg_constraint own
                      WHERE own.conrelid = ix.indrelid AND own.conindid = ix.indexrelid
                        AND own.contype IN ('p', 'u', 'x'))
     AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = ix.indexrelid)
),
index_keys AS (
  SELECT ix.indexrelid,
         json_agg(json_build_object(
           'column', CASE WHEN k.attnum <> 0 THEN ka.attname END,
           'expr', CASE WHEN k.attnum = 0 THEN pg_get_indexdef(ix.indexrelid, k.ord::int, true) END,
           'opclass', CASE WHEN NOT opc.opcdefault THEN opc.opcname END,
           'collation', CASE WHEN (ix.indcollation::oid[])[k.ord - 1] NOT IN (0, coalesce(ka.attcollation, 100))
                             THEN kc.collname END,
           'desc', ((ix.indoption::int2[])[k.ord - 1] & 1) = 1,
           'nulls_first', ((ix.indoption::int2[])[k.ord - 1] & 2) = 2
         ) ORDER BY k.ord) AS keys
    FROM plain_index ix
    CROSS JOIN LATERAL unnest((ix.indkey::int2[])[0:ix.indnkeyatts - 1]) WITH ORDINALITY k(attnum, ord)
    LEFT JOIN pg_attribute ka ON ka.attrelid = ix.indrelid AND ka.attnum = k.attnum
    LEFT JOIN pg_opclass opc ON opc.oid = (ix.indclass::oid[])[k.ord - 1]
    LEFT JOIN pg_collation kc ON kc.oid = (ix.indcollation::oid[])[k.ord - 1]
   GROUP BY ix.indexrelid
),
index_include AS (
  SELECT ix.indexrelid, json_agg(ia.attname ORDER BY k.ord) AS include
    FROM plain_index ix
    CROSS JOIN LATERAL unnest((ix.indkey::int2[])[ix.indnkeyatts:ix.indnatts - 1]) WITH ORDINALITY k(attnum, ord)
    JOIN pg_attribute ia ON ia.attrelid = ix.indrelid AND ia.attnum = k.attnum
   GROUP BY ix.indexrelid
),
idx AS (
  SELECT ix.indrelid,
         json_agg(json_build_object(
           'name', ic.relname,
           'unique', ix.indisunique,
           'method', am.amname,
           'valid', ix.indisvalid,
           'keys', ik.keys,
           'include', coalesce(ii.include, '[]'),
           'predicate', pg_get_expr(ix.indpred, ix.indrelid),
           'nulls_not_distinct', /*INDEX_NULLS_NOT_DISTINCT*/,
           'partitioned', ic.relkind = 'I',
           'options', ic.reloptions,
           'tablespace', (SELECT spcname FROM pg_tablespace WHERE oid = ic.reltablespace)
         ) ORDER BY ic.relname) AS indexes
    FROM plain_index ix
    JOIN pg_class ic ON ic.oid = ix.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    JOIN index_keys ik ON ik.indexrelid = ix.indexrelid
    LEFT JOIN index_include ii ON ii.indexrelid = ix.indexrelid
   GROUP BY ix.indrelid
),
-- What of the table calls a function of its own schema or another's (by
-- schema, null for its own; PostgreSQL's own functions left out) — a column's
-- default or generated expression, a constraint, an index — by the
-- function's name: it goes and comes back around one dropped and created
-- again. An index behind a constraint is the constraint's; a partition's
-- copy of its parent's index is the parent's.
fn_users AS (
  SELECT u.relid,
         json_agg(json_build_object('function', u.proname, 'schema', u.nspname, 'kind', u.kind, 'name', u.name)
                  ORDER BY u.kind, u.name, u.nspname, u.proname) AS users
    FROM (
      -- Each user with the function it calls, by name (overloads are one).
      SELECT DISTINCT c.relid, f.proname::text AS proname,
             CASE WHEN fn.oid <> c.relnamespace THEN fn.nspname::text END AS nspname,
             c.kind, c.name
        FROM (
          SELECT tbl.oid AS relid, tbl.relnamespace, d.refobjid AS function,
                 CASE WHEN a.attgenerated <> '' THEN 'generated' ELSE 'default' END AS kind,
                 a.attname::text AS name
            FROM tbl
            JOIN pg_attrdef ad ON ad.adrelid = tbl.oid
            JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
            JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                            AND d.refclassid = 'pg_proc'::regclass
          UNION ALL
          SELECT tbl.oid, tbl.relnamespace, d.refobjid, 'constraint', con.conname::text
            FROM tbl
            JOIN pg_constraint con ON con.conrelid = tbl.oid
            JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = con.oid
                            AND d.refclassid = 'pg_proc'::regclass
          UNION ALL
          SELECT tbl.oid, tbl.relnamespace, d.refobjid,
                 CASE WHEN own.oid IS NULL THEN 'index' ELSE 'constraint' END,
                 coalesce(own.conname, ic.relname)::text
            FROM tbl
            JOIN pg_index ix ON ix.indrelid = tbl.oid
            JOIN pg_class ic ON ic.oid = ix.indexrelid
            LEFT JOIN pg_constraint own ON own.conindid = ix.indexrelid AND own.conrelid = tbl.oid
                                       AND own.contype IN ('p', 'u', 'x')
            JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = ix.indexrelid
                            AND d.refclassid = 'pg_proc'::regclass
           WHERE NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = ix.indexrelid)
        ) c
        JOIN pg_proc f ON f.oid = c.function
        JOIN pg_namespace fn ON fn.oid = f.pronamespace AND fn.nspname <> 'pg_catalog'
    ) u
   GROUP BY u.relid
),
-- Triggers: PostgreSQL's own definition (its schema's qualifiers are left
-- out by the reader, which knows the schema), and the function they run
-- when it is in the table's schema.
trg AS (
  SELECT tg.tgrelid,
         json_agg(json_build_object(
           'name', tg.tgname,
           'definition', pg_get_triggerdef(tg.oid),
           'constraint', tg.tgconstraint <> 0,
           'own_function', CASE WHEN p.pronamespace = tbl.relnamespace THEN p.proname END,
           'enabled', tg.tgenabled
         ) ORDER BY tg.tgname) AS triggers
    FROM pg_trigger tg
    JOIN tbl ON tbl.oid = tg.tgrelid
    JOIN pg_proc p ON p.oid = tg.tgfoid
   WHERE NOT tg.tgisinternal AND tg.tgparentid = 0
   GROUP BY tg.tgrelid
),
-- Policies: what PostgreSQL stores, in the order CREATE POLICY writes it
-- (the reader leaves the schema's own name out of the expressions).
pol AS (
  SELECT p.polrelid,
         json_agg(json_build_object(
           'name', p.polname,
           'definition', concat_ws(' ',
             'AS', CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
             'FOR', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                  WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
             'TO', (SELECT string_agg(role, ', ' ORDER BY role)
                      FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END AS role
                              FROM unnest(p.polroles) r) roles),
             'USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
             'WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')'),
           -- Functions of the table's schema it calls, by name, and of
           -- other schemas, by schema and name: the policy goes and comes
           -- back around one dropped and created again.
           'calls', ARRAY(SELECT DISTINCT f.proname
                            FROM pg_depend d
                            JOIN pg_proc f ON f.oid = d.refobjid
                           WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
                             AND d.refclassid = 'pg_proc'::regclass
                             AND f.pronamespace = tbl.relnamespace
                           ORDER BY 1),
           'calls_outside', (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(fn.nspname, f.proname)), '[]')
                               FROM pg_depend d
                               JOIN pg_proc f ON f.oid = d.refobjid
                               JOIN pg_namespace fn ON fn.oid = f.pronamespace
                              WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
                                AND d.refclassid = 'pg_proc'::regclass
                                AND f.pronamespace NOT IN (tbl.relnamespace, 'pg_catalog'::regnamespace)),
           -- The columns of other schemas' tables it reads ([schema,
           -- relation, column]; column null for a whole row): a shared
           -- change under it takes it along.
           'reads_outside', (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(rn.nspname, r.relname, a.attname)), '[]')
                               FROM pg_depend d
                               JOIN pg_class r ON r.oid = d.refobjid
                               JOIN pg_namespace rn ON rn.oid = r.relnamespace
                               LEFT JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = d.refobjsubid
                                                       AND d.refobjsubid > 0
                              WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
                                AND d.refclassid = 'pg_class'::regclass
                                AND r.relnamespace <> tbl.relnamespace
                                AND rn.nspname NOT IN ('pg_catalog', 'information_schema'))
         ) ORDER BY p.polname) AS policies
    FROM pg_policy p
    JOIN tbl ON tbl.oid = p.polrelid
   GROUP BY p.polrelid
),
-- Privileges on the table and its columns, one entry per role and
-- privilege, without the owner's and PostgreSQL's defaults (role names,
-- never oids: identical tenants read the same).
acl AS (
  SELECT g.relid,
         json_agg(json_build_array(g.column_name,
                                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END,
                                   a.privilege_type, a.is_grantable)
                  ORDER BY g.column_name NULLS FIRST, 2, 3) AS grants
    FROM (
      SELECT rel.oid AS relid, NULL::text AS column_name, rel.relacl AS acl, rel.relowner AS owner, 'r'::"char" AS kind
        FROM pg_class rel JOIN tbl ON tbl.oid = rel.oid
       WHERE rel.relacl IS NOT NULL
      UNION ALL
      SELECT att.attrelid, att.attname::text, att.attacl, rel.relowner, 'c'::"char"
        FROM pg_attribute att
        JOIN tbl ON tbl.oid = att.attrelid
        JOIN pg_class rel ON rel.oid = att.attrelid
       WHERE att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped
    ) g
    CROSS JOIN LATERAL aclexplode(g.acl) a
   WHERE a.grantee <> g.owner
     AND NOT EXISTS (SELECT 1 FROM aclexplode(acldefault(g.kind, g.owner)) d
                      WHERE d.grantee = a.grantee AND d.privilege_type = a.privilege_type)
   GROUP BY g.relid
)
SELECT tbl.oid,
       json_build_object(
         'columns', coalesce(cols.columns, '[]'),
         'constraints', coalesce(cons.constraints, '[]'),
         'indexes', coalesce(idx.indexes, '[]'),
         'unlogged', rel.relpersistence = 'u',
         'comment', obj_description(tbl.oid, 'pg_class'),
         'replica_identity', rel.relreplident,
         'replica_index', CASE WHEN rel.relreplident = 'i' THEN
           (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = rel.oid AND i.indisreplident) END,
         'options', rel.reloptions,
         -- 0 (none) is the database's default.
         'tablespace', (SELECT spcname FROM pg_tablespace WHERE oid = rel.reltablespace),
         'triggers', coalesce(trg.triggers, '[]'),
         'row_security', rel.relrowsecurity,
         'force_row_security', rel.relforcerowsecurity,
         'policies', coalesce(pol.policies, '[]'),
         'grants', coalesce(acl.grants, '[]'),
         'partition_key', CASE WHEN rel.relkind = 'p' THEN pg_get_partkeydef(rel.oid) END,
         -- A bound names no column: relid 0 takes no lock.
         'partition_of', parent.relname,
         'partition_bound', CASE WHEN rel.relispartition THEN pg_get_expr(rel.relpartbound, 0) END,
         'partition_columns', coalesce(part_cols.columns, '[]'),
         'function_users', coalesce(fn_users.users, '[]'),
         'sequence_notes', coalesce(sequence_notes.notes, '[]')
       )::text AS document
  FROM tbl
  JOIN pg_class rel ON rel.oid = tbl.oid
  LEFT JOIN pg_inherits inh ON inh.inhrelid = rel.oid AND rel.relispartition
  LEFT JOIN pg_class parent ON parent.oid = inh.inhparent
  LEFT JOIN cols ON cols.attrelid = tbl.oid
  LEFT JOIN part_cols ON part_cols.attrelid = tbl.oid
  LEFT JOIN fn_users ON fn_users.relid = tbl.oid
  LEFT JOIN cons ON cons.conrelid = tbl.oid
  LEFT JOIN idx ON idx.indrelid = tbl.oid
  LEFT JOIN trg ON trg.tgrelid = tbl.oid
  LEFT JOIN pol ON pol.polrelid = tbl.oid
  LEFT JOIN acl ON acl.relid = tbl.oid
  LEFT JOIN sequence_notes ON sequence_notes.relid = tbl.oid
