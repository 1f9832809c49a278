CREATE TABLE regions (id int PRIMARY KEY, code text);
COMMENT ON COLUMN regions.code IS 'old';
