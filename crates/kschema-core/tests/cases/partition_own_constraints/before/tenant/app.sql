CREATE TABLE ledger (id int NOT NULL, kind text NOT NULL, amount numeric) PARTITION BY LIST (kind);
CREATE TABLE ledger_credit PARTITION OF ledger FOR VALUES IN ('credit');
