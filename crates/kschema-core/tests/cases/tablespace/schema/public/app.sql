-- A table and its index moved to a tablespace, another pair moved back to
-- the database's default, a partitioned table whose new partitions go to
-- a tablespace (its partition follows it, as PostgreSQL would have put
-- it there), a partitioned index moved (built again: moving it would move
-- none of its partitions'), and new ones created there.
CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL) TABLESPACE kschema_case_space;
CREATE INDEX accounts_name_idx ON accounts (name) TABLESPACE kschema_case_space;
CREATE TABLE archive (id bigint, at timestamptz);
CREATE INDEX archive_at_idx ON archive (at);
CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at) TABLESPACE kschema_case_space;
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_at_idx ON events (at) TABLESPACE kschema_case_space;
CREATE TABLE fresh (id int) WITH (fillfactor = 80) TABLESPACE kschema_case_space;
CREATE INDEX fresh_id_idx ON fresh (id) WITH (fillfactor = 80) TABLESPACE kschema_case_space WHERE id > 0;
