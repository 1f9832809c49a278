CREATE TABLE sso_tickets (
    id SERIAL PRIMARY KEY,
    enterprise_id UUID NOT NULL REFERENCES enterprises(id) ON DELETE CASCADE,
    ticket VARCHAR(255) UNIQUE NOT NULL,
    email VARCHAR(255) NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_sso_tickets_ticket ON sso_tickets (ticket);
CREATE INDEX idx_sso_tickets_expires ON sso_tickets (expires_at);
