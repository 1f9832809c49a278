CREATE TYPE plan_tier AS ENUM ('free', 'pro');
CREATE TABLE subscriptions (id int PRIMARY KEY, tier plan_tier NOT NULL DEFAULT 'free');
CREATE TYPE account_status AS ENUM ('active', 'closed');
CREATE TABLE accounts (id int PRIMARY KEY, status account_status NOT NULL DEFAULT 'active', reason text);
