-- The database's event triggers (an extension's are the extension's): the
-- event, the tags of WHEN TAG IN, the function as regproc writes it on
-- public's search path, when it fires (evtenabled: O, D, R, A), and
-- whether the role kschema runs as owns it — one another role owns (a
-- hosting platform's, say) is listed, never compared or dropped.
SELECT e.evtname::text, e.evtevent::text, coalesce(e.evttags, '{}')::text[],
       e.evtfoid::regproc::text, e.evtenabled::text,
       e.evtowner = (SELECT oid FROM pg_roles WHERE rolname = current_user),
       pg_get_userbyid(e.evtowner)::text
  FROM pg_event_trigger e
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend x
                    WHERE x.classid = 'pg_event_trigger'::regclass AND x.objid = e.oid AND x.deptype = 'e')
 ORDER BY 1
