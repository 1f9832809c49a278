CREATE TABLE discounts (id int PRIMARY KEY, rate percent);
