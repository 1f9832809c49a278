CREATE DOMAIN percent AS int CHECK (VALUE >= 0);
CREATE TYPE money_amount AS (currency char(3), cents bigint);
