-- Project-specific roles; default_roles lives in public.
CREATE NULL DEFAULT NOW()
);
TABLE roles (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id UUID NOT NULL REFERENCES projects(id) ON DELETE CASCADE00) NOT NULL,
    description TEXT,
    default_role_id UUID REFERENCES default_roles(id),
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
