-- A foreign key to a shared table, a multi-column check, a deferrable
-- unique key and a foreign key kept NOT VALID.
CREATE TABLE projects (
    id int PRIMARY KEY,
    owner_id int REFERENCES users (id) ON DELETE SET NULL,
    code text,
    starts date,
    ends date,
    CHECK (ends >= starts),
    CONSTRAINT projects_code_key UNIQUE (code) DEFERRABLE INITIALLY DEFERRED
);
