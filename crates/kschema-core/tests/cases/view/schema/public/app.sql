-- A view whose query changes in place, a materialized view added.
CREATE TABLE customers (id int PRIMARY KEY, name text, active boolean);
CREATE VIEW active_customers AS SELECT id, name FROM customers WHERE active IS TRUE;
CREATE MATERIALIZED VIEW customer_counts AS
    SELECT active, count(*) AS n FROM customers GROUP BY active;
