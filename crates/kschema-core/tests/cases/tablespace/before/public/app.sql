CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);
CREATE INDEX accounts_name_idx ON accounts (name);
CREATE TABLE archive (id bigint, at timestamptz) TABLESPACE kschema_case_space;
CREATE INDEX archive_at_idx ON archive (at) TABLESPACE kschema_case_space;
CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX events_at_idx ON events (at);
