-- The functions and procedures of the target schemas ($1), as PostgreSQL
-- stores them (extension members are the extension's; aggregates and
-- window functions are listed by unmanaged.sql), identified by the
-- argument types a call passes (a function's OUT arguments are not part of
-- them). A function another object made for itself (a range type's
-- constructors: an internal dependency) is that object's. The reader
-- leaves each schema's own name out of the definitions.
SELECT n.nspname::text, p.proname::text, oidvectortypes(p.proargtypes),
       p.pronargs, p.prokind::text, pg_get_functiondef(p.oid),
       concat_ws(' ', '(' || pg_get_function_arguments(p.oid) || ')', 'RETURNS ' || pg_get_function_result(p.oid)),
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
 WHERE n.nspname = ANY($1) AND p.oid >= 16384 AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend e
                    WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype IN ('e', 'i'))
 ORDER BY 1, 2, 3
