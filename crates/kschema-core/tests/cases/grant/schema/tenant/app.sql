-- Table and column privileges granted in every tenant.
CREATE TABLE invoices (id int PRIMARY KEY, total numeric);
GRANT SELECT ON invoices TO kschema_case_app;
GRANT UPDATE (total) ON invoices TO kschema_case_app;
