CREATE TABLE "junk
DROP TABLE public.modules CASCADE;
--[2J" (id int PRIMARY KEY);
