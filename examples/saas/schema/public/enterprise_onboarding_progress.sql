CREATE TABLE enterprise_onboarding_progress (
    id SERIAL PRIMARY KEY,
    enterprise_id UUID UNIQUE NOT NULL REFERENCES enterprises(id) ON DELETE CASCADE,
    current_step VARCHAR(50) NOT NULL,
    progress_data JSONB,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
