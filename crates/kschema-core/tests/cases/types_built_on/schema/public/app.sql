CREATE TYPE priority AS ENUM ('low', 'urgent', 'high');
CREATE DOMAIN pressing AS priority CHECK (VALUE <> 'low');
