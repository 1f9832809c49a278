-- A partition's constraints and indexes of its own, as schemas from before
-- partitioned tables took foreign keys carry them: a check changed, a
-- foreign key moved to the other partition, a unique key and indexes.
CREATE TABLE customer (id int PRIMARY KEY);
CREATE TABLE payment (
  id int NOT NULL, customer_id int NOT NULL, at date NOT NULL, amount numeric,
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE TABLE payment_2025 PARTITION OF payment (
  CHECK (amount > 1),
  UNIQUE (customer_id, id)
) FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE payment_2026 PARTITION OF payment (
  FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE
) FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX payment_2025_big ON payment_2025 ((amount * 3)) WHERE amount > 100;
CREATE INDEX payment_2026_customer ON payment_2026 (customer_id);
