CREATE TYPE priority AS ENUM ('low', 'high', 'urgent');
CREATE DOMAIN pressing AS priority CHECK (VALUE <> 'low');
