-- Widened, made required, default dropped, one dropped, two added
-- (a stored generated column among them).
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email varchar(255) NOT NULL,
    nickname text NOT NULL,
    score int,
    created_at timestamptz NOT NULL DEFAULT now(),
    email_domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED
);
