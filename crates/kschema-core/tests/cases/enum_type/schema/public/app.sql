-- A label added in place, between two others.
CREATE TYPE plan_tier AS ENUM ('free', 'team', 'pro');
CREATE TABLE subscriptions (id int PRIMARY KEY, tier plan_tier NOT NULL DEFAULT 'free');

-- A label added and used in the same apply (a check, a view): it is
-- committed first, in a transaction of its own.
CREATE TYPE account_status AS ENUM ('active', 'suspended', 'closed');
CREATE TABLE accounts (
    id int PRIMARY KEY,
    status account_status NOT NULL DEFAULT 'active',
    reason text,
    CHECK (status <> 'suspended' OR reason IS NOT NULL)
);
CREATE VIEW suspended_accounts AS SELECT id, reason FROM accounts WHERE status = 'suspended';
