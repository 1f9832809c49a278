-- A shared enum no column is of: named in the tenants' expressions only.
CREATE TYPE plan_tier AS ENUM ('free', 'trial', 'pro');
