CREATE TABLE measurements (at date NOT NULL, value int) PARTITION BY RANGE (at);
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE readings (id int, source text DEFAULT 'api', value int, note text) PARTITION BY LIST (source);
CREATE TABLE readings_api PARTITION OF readings (value DEFAULT 0) FOR VALUES IN ('api');
CREATE TABLE readings_batch PARTITION OF readings (note NOT NULL) FOR VALUES IN ('batch');
CREATE TABLE readings_manual PARTITION OF readings FOR VALUES IN ('manual');
