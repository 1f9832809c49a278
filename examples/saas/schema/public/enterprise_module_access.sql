CREATE TABLE enterprise_module_access (
    id SERIAL PRIMARY KEY,
    enterprise_id UUID NOT NULL REFERENCES enterprises(id) ON DELETE CASCADE,
    module_id INTEGER NOT NULL REFERENCES modules(id),
    trial_id INTEGER REFERENCES trials(id),
    access_level VARCHAR(50) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW(),
    UNIQUE(enterprise_id, module_id)
);
