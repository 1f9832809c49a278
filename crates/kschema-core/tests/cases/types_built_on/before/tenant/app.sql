CREATE TYPE status AS ENUM ('new', 'active', 'closed');
CREATE DOMAIN open_status AS status CHECK (VALUE <> 'closed');
CREATE TYPE assignment AS (who text, status status);
CREATE DOMAIN held AS assignment CHECK ((VALUE).who <> '');
CREATE TABLE tickets (
    id int PRIMARY KEY,
    status status NOT NULL DEFAULT 'new',
    open open_status,
    current assignment,
    history assignment[],
    holder held,
    escalation pressing,
    CONSTRAINT open_is_not_new CHECK (open::status <> 'new')
);
CREATE VIEW open_tickets AS SELECT id, open, escalation FROM tickets WHERE open IS NOT NULL;
CREATE DOMAIN code AS text;
CREATE DOMAIN short_code AS code CHECK (length(VALUE) < 5);
CREATE TABLE codes (id int PRIMARY KEY, c short_code);
COMMENT ON DOMAIN open_status IS 'a status still open';
COMMENT ON TYPE assignment IS 'who holds it';
COMMENT ON COLUMN assignment.who IS 'a login';
COMMENT ON DOMAIN short_code IS 'at most four';
