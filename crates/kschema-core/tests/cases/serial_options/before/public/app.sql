-- Serials with PostgreSQL's default sequence options.
CREATE TABLE orders (id serial PRIMARY KEY, total int);
CREATE TABLE refunds (id serial PRIMARY KEY);
