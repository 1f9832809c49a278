CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE legacy_flags (id int PRIMARY KEY);
