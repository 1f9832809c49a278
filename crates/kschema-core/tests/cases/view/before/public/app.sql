CREATE TABLE customers (id int PRIMARY KEY, name text, active boolean);
CREATE VIEW active_customers AS SELECT id, name FROM customers WHERE active;
