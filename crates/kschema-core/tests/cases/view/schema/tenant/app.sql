-- A tenant view reading a shared table; one whose columns change.
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric);
CREATE VIEW big_orders AS SELECT id, customer_id, total FROM orders WHERE total > 1000;
CREATE VIEW order_customers AS
    SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id;
