CREATE TABLE default_permissions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    default_role_id UUID NOT NULL REFERENCES default_roles(id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    description TEXT
);
