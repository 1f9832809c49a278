-- Comments on a table, a column (changed) and a constraint.
CREATE TABLE regions (id int PRIMARY KEY, code text);
COMMENT ON TABLE regions IS 'Where data is kept';
COMMENT ON COLUMN regions.code IS 'ISO 3166 code';
COMMENT ON CONSTRAINT regions_pkey ON regions IS 'One row per region';
