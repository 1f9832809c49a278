CREATE TABLE sites (id int PRIMARY KEY, region_id int);
CREATE INDEX sites_region_idx ON sites (region_id);
