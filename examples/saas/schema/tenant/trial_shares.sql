-- trials is shared: the reference resolves to public.trials.
CREATE TABLE trial_shares (
    id SERIAL PRIMARY KEY,
    trial_id INTEGER NOT NULL REFERENCES trials(id),
    shared_with_user_id UUID NOT NULL,
    shared_by_user_id UUID NOT NULL,
    access_type VARCHAR(50) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
