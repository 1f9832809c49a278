CREATE TABLE discounts (id int PRIMARY KEY, rate percent, price money_amount);
