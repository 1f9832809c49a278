CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
