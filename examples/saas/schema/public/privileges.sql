-- What the application may do with the shared tables.
GRANT USAGE ON SCHEMA public TO app;
GRANT SELECT ON modules, default_roles, default_permissions TO app;
GRANT SELECT, INSERT, UPDATE ON enterprises, enterprise_onboarding_progress TO app;
GRANT EXECUTE ON FUNCTION set_updated_at() TO app;
