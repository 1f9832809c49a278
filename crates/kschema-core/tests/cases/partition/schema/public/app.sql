-- A partition added, with an index on the partitioned table.
CREATE TABLE measurements (at date NOT NULL, value int) PARTITION BY RANGE (at);
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX measurements_at_idx ON measurements (at);

-- What partitions set for their columns themselves: a default changed, one
-- kept through the parent's new default (which PostgreSQL passes down to
-- every partition), a NOT NULL given up, some gained, a new partition's.
CREATE TABLE readings (id int, source text DEFAULT 'web', value int, note text) PARTITION BY LIST (source);
CREATE TABLE readings_api PARTITION OF readings (value DEFAULT 1, source DEFAULT 'api') FOR VALUES IN ('api');
CREATE TABLE readings_batch PARTITION OF readings FOR VALUES IN ('batch');
CREATE TABLE readings_manual PARTITION OF readings (note NOT NULL, value DEFAULT 5) FOR VALUES IN ('manual');
CREATE TABLE readings_iot PARTITION OF readings (value DEFAULT 9) FOR VALUES IN ('iot');

-- A partition may drop its parent's default (`DEFAULT NULL`): kept through
-- the parent's new default, dropped anew, given back.
CREATE TABLE readings_sensor PARTITION OF readings (source DEFAULT NULL) FOR VALUES IN ('sensor');
CREATE TABLE tags (id int, label text DEFAULT 'none') PARTITION BY LIST (id);
CREATE TABLE tags_1 PARTITION OF tags FOR VALUES IN (1);
CREATE TABLE tags_2 PARTITION OF tags (label DEFAULT NULL) FOR VALUES IN (2);
