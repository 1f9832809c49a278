-- Tenants reference the shared schema by qualified names: a key to its
-- table, a column of its enum, a view reading it.
CREATE TABLE items (
    id serial PRIMARY KEY,
    event_id bigint REFERENCES audit.events (id),
    level audit.level
);
CREATE VIEW item_events AS
SELECT i.id, e.level FROM items i JOIN audit.events e ON e.id = i.event_id;
