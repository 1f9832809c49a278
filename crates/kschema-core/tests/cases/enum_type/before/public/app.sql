CREATE TYPE plan_tier AS ENUM ('free', 'pro');
CREATE TABLE subscriptions (id int PRIMARY KEY, tier plan_tier NOT NULL DEFAULT 'free');
