CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    auth0_id VARCHAR(128) UNIQUE NOT NULL,
    organization_id VARCHAR(64) NOT NULL,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    email citext NOT NULL,
    mobile VARCHAR(50),
    avatar_url VARCHAR(500),
    job_title VARCHAR(100),
    status user_status NOT NULL DEFAULT 'ACTIVE',
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW(),
    UNIQUE(organization_id, email)
);

CREATE INDEX idx_users_auth0_id ON users (auth0_id);
CREATE INDEX idx_users_org_id ON users (organization_id);
CREATE INDEX idx_users_org_email ON users (organization_id, email);

COMMENT ON COLUMN users.email IS 'Compared case-insensitively (citext).';
