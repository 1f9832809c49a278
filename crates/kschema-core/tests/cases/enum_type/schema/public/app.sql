-- A label added in place, between two others.
CREATE TYPE plan_tier AS ENUM ('free', 'team', 'pro');
CREATE TABLE subscriptions (id int PRIMARY KEY, tier plan_tier NOT NULL DEFAULT 'free');
