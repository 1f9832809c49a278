-- A sequence altered in place, one dropped, a serial widened to bigserial.
CREATE SEQUENCE invoice_numbers AS bigint START WITH 1000 INCREMENT BY 10 CACHE 5;
CREATE TABLE invoices (id bigserial PRIMARY KEY, number int);
