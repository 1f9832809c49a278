CREATE TABLE statuses (code text PRIMARY KEY, label text NOT NULL);
