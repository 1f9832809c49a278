CREATE TABLE enterprise_datasources (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    enterprise_id UUID NOT NULL REFERENCES enterprises(id) ON DELETE CASCADE,
    datasource_name VARCHAR(255) NOT NULL,
    datasource_type VARCHAR(50) NOT NULL,
    connection_string TEXT NOT NULL,  -- Encrypted
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
