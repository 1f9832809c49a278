CREATE TABLE logs (id int, level text NOT NULL) PARTITION BY LIST (level);
CREATE TABLE logs_error PARTITION OF logs FOR VALUES IN ('error');
CREATE TABLE logs_debug (id int DEFAULT 3, level text NOT NULL);
