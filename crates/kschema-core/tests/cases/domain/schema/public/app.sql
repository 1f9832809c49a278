-- A domain's check changed and a default given in place; a composite
-- type gains an attribute.
CREATE DOMAIN percent AS int DEFAULT 0 CHECK (VALUE BETWEEN 0 AND 100);
CREATE TYPE money_amount AS (currency char(3), cents bigint, note text);
