CREATE TABLE customer (id int PRIMARY KEY);
CREATE TABLE payment (
  id int NOT NULL, customer_id int NOT NULL, at date NOT NULL, amount numeric,
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE TABLE payment_2025 PARTITION OF payment (
  CONSTRAINT payment_2025_customer_fkey FOREIGN KEY (customer_id) REFERENCES customer (id),
  CHECK (amount > 0)
) FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE payment_2026 PARTITION OF payment FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX payment_2025_customer ON payment_2025 (customer_id);
