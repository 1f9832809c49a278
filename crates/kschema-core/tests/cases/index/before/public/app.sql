CREATE TABLE events (id bigint PRIMARY KEY, kind text, at timestamptz, payload jsonb);
CREATE INDEX events_kind_idx ON events (kind);
CREATE INDEX events_old_idx ON events (at);
