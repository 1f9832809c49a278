CREATE TABLE invoices (id int PRIMARY KEY, total numeric);
