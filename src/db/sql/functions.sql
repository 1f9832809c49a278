-- The functions, procedures, aggregates and window functions of the
-- target schemas ($1), as PostgreSQL stores them (extension members are
-- the extension's), identified by the
-- argument types a call passes (a function's OUT arguments are not part of
-- them). A function another object made for itself (a range type's
-- constructors: an internal dependency) is that object's. The reader
-- leaves each schema's own name out of the definitions.
SELECT n.nspname::text, p.proname::text, oidvectortypes(p.proargtypes),
       p.pronargs, p.prokind::text,
       -- pg_get_functiondef does not write aggregates: their CREATE
       -- AGGREGATE from pg_aggregate, every function and operator named
       -- with its schema (the reader leaves the own one out), each option
       -- only where it is not the default.
       CASE WHEN p.prokind = 'a' THEN (SELECT format(E'CREATE OR REPLACE AGGREGATE %I.%I(%s) (\n    %s\n)', n.nspname, p.proname,
                       CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_get_function_arguments(p.oid) END,
                       concat_ws(E',\n    ',
                         'SFUNC = ' || fns.sfunc,
                         'STYPE = ' || format_type(a.aggtranstype, NULL),
                         'SSPACE = ' || nullif(a.aggtransspace, 0),
                         'FINALFUNC = ' || fns.finalfunc,
                         CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
                         CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC_MODIFY = ' || CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
                         'COMBINEFUNC = ' || fns.combinefunc,
                         'SERIALFUNC = ' || fns.serialfunc,
                         'DESERIALFUNC = ' || fns.deserialfunc,
                         'INITCOND = ' || quote_literal(a.agginitval),
                         'MSFUNC = ' || fns.msfunc,
                         'MINVFUNC = ' || fns.minvfunc,
                         CASE WHEN a.aggmtransfn <> 0 THEN 'MSTYPE = ' || format_type(a.aggmtranstype, NULL) END,
                         'MSSPACE = ' || nullif(a.aggmtransspace, 0),
                         'MFINALFUNC = ' || fns.mfinalfunc,
                         CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
                         CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC_MODIFY = ' || CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
                         'MINITCOND = ' || quote_literal(a.aggminitval),
                         (SELECT format('SORTOP = OPERATOR(%I.%s)', opn.nspname, o.oprname)
                            FROM pg_operator o JOIN pg_namespace opn ON opn.oid = o.oprnamespace
                           WHERE o.oid = a.aggsortop),
                         CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END,
                         CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END))
          FROM pg_aggregate a,
               -- Its functions, each named with its schema.
               LATERAL (SELECT max(format('%I.%I', fn.nspname, f.proname)) FILTER (WHERE f.oid = a.aggtransfn) AS sfunc,
                               max(format('%I.%I', fn.nspname, f.proname)) FILTER (WHERE f.oid = a.aggfinalfn) AS finalfunc,
                               max(format('%I.%I', fn.nspname, f.proname)) FILTER (WHERE f.oid = a.aggcombinefn) AS combinefunc,
                               max(format('%I.%I', fn.nspname, f.proname)) FILTER (WHERE f.oid = a.aggserialfn) AS serialfunc,
                               max(format('%I.%I', fn.nspname, f.proname)) FILTER (WHERE f.oid = a.aggdeserialfn) AS deserialfunc,
                               max(format('%I.%I', fn.nspname, f.proname)) FILTER (WHERE f.oid = a.aggmtransfn) AS msfunc,
                               max(format('%I.%I', fn.nspname, f.proname)) FILTER (WHERE f.oid = a.aggminvtransfn) AS minvfunc,
                               max(format('%I.%I', fn.nspname, f.proname)) FILTER (WHERE f.oid = a.aggmfinalfn) AS mfinalfunc
                          FROM pg_proc f JOIN pg_namespace fn ON fn.oid = f.pronamespace
                         WHERE f.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn)) fns
         WHERE a.aggfnoid = p.oid) ELSE pg_get_functiondef(p.oid) END,
       concat_ws(' ', '(' || pg_get_function_arguments(p.oid) || ')', 'RETURNS ' || pg_get_function_result(p.oid),
                 -- An ordered-set aggregate cannot be replaced by a hypothetical-set one.
                 (SELECT 'HYPOTHETICAL' FROM pg_aggregate a WHERE a.aggfnoid = p.oid AND a.aggkind = 'h')),
       p.prosqlbody IS NOT NULL,
       -- The types of its own schema its arguments and result are (an
       -- array's by its element): one created again takes it along.
       ARRAY(SELECT DISTINCT coalesce(el.typname, t.typname)::text
               FROM pg_depend d
               JOIN pg_type t ON t.oid = d.refobjid
               LEFT JOIN pg_type el ON el.oid = t.typelem AND t.typlen = -1 AND t.typelem <> 0
              WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                AND d.refclassid = 'pg_type'::regclass
                AND coalesce(el.typnamespace, t.typnamespace) = p.pronamespace
              ORDER BY 1)
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = ANY($1) AND p.oid >= 16384 AND p.prokind IN ('f', 'p', 'a', 'w')
   AND NOT EXISTS (SELECT 1 FROM pg_depend e
                    WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype IN ('e', 'i'))
 ORDER BY 1, 2, 3
