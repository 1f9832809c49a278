-- Shared: one row per customer organization.
CREATE TABLE enterprises (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id VARCHAR(64) UNIQUE NOT NULL,
    name VARCHAR(255) NOT NULL,
    url VARCHAR(500),
    domain VARCHAR(255),
    description TEXT,
    logo_url VARCHAR(500),
    admin_email VARCHAR(255) NOT NULL,
    zip_code VARCHAR(20),
    region VARCHAR(100),
    size VARCHAR(50),
    contact_number VARCHAR(50),
    status VARCHAR(20) NOT NULL DEFAULT 'ACTIVE',
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_enterprises_org_id ON enterprises (organization_id);
CREATE INDEX idx_enterprises_domain ON enterprises (domain);
CREATE INDEX idx_enterprises_status ON enterprises (status);
CREATE INDEX idx_enterprises_admin_email ON enterprises (admin_email);
