CREATE TABLE projects (id int PRIMARY KEY, owner_id int, code text, starts date, ends date);
