-- The database's event triggers (an extension's are the extension's): the
-- event, the tags of WHEN TAG IN, the function as regproc writes it on
-- public's search path, and when it fires (evtenabled: O, D, R, A).
SELECT e.evtname::text, e.evtevent::text, coalesce(e.evttags, '{}')::text[],
       e.evtfoid::regproc::text, e.evtenabled::text
  FROM pg_event_trigger e
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend x
                    WHERE x.classid = 'pg_event_trigger'::regclass AND x.objid = e.oid AND x.deptype = 'e')
 ORDER BY 1
