-- A tenant-local sequence a default draws from.
CREATE SEQUENCE ticket_numbers START WITH 1;
CREATE TABLE tickets (
    id int PRIMARY KEY,
    number bigint NOT NULL DEFAULT nextval('ticket_numbers')
);
