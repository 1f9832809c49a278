CREATE TYPE level AS ENUM ('info', 'warn');
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    level level NOT NULL DEFAULT 'info'
);
CREATE TABLE retired (id int PRIMARY KEY);
