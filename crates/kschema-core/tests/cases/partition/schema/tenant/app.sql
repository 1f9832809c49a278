-- A default partition added; one partition's list changed (detach, attach).
CREATE TABLE logs (id int, level text NOT NULL) PARTITION BY LIST (level);
CREATE TABLE logs_error PARTITION OF logs (id NOT NULL) FOR VALUES IN ('error', 'fatal');
CREATE TABLE logs_other PARTITION OF logs DEFAULT;
-- A table attached, its own default changed on the way.
CREATE TABLE logs_debug PARTITION OF logs (id DEFAULT 7) FOR VALUES IN ('debug');
