-- Labels reordered: created again; what names it in the tenants goes along.
CREATE TYPE plan_tier AS ENUM ('pro', 'trial', 'free');
