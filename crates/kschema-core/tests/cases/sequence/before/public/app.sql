CREATE SEQUENCE invoice_numbers START WITH 1000;
CREATE SEQUENCE retired_numbers;
CREATE TABLE invoices (id serial PRIMARY KEY, number int);
