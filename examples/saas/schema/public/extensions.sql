-- Case-insensitive e-mail addresses in every tenant's users.
CREATE EXTENSION citext;
