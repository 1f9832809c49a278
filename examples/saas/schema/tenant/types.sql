CREATE TYPE project_status AS ENUM ('DRAFT', 'ACTIVE', 'ARCHIVED');
CREATE TYPE user_status AS ENUM ('INVITED', 'ACTIVE', 'SUSPENDED');
COMMENT ON TYPE project_status IS 'A project''s lifecycle: DRAFT until published, ARCHIVED when done.';
