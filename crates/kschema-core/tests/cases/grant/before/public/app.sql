CREATE TABLE countries (code text PRIMARY KEY, name text);
GRANT SELECT, UPDATE ON countries TO kschema_case_app;
