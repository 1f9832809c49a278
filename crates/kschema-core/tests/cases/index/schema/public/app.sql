-- One index kept, one dropped, one changed (rebuilt), two new: an
-- expression index and a GIN index with storage parameters.
CREATE TABLE events (id bigint PRIMARY KEY, kind text, at timestamptz, payload jsonb);
CREATE INDEX events_kind_idx ON events (kind) INCLUDE (at);
CREATE INDEX events_day_idx ON events (date_trunc('day', at AT TIME ZONE 'UTC'));
CREATE INDEX events_payload_idx ON events USING gin (payload) WITH (fastupdate = off);
