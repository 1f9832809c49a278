-- A privilege revoked, one kept.
CREATE TABLE countries (code text PRIMARY KEY, name text);
GRANT SELECT ON countries TO kschema_case_app;
