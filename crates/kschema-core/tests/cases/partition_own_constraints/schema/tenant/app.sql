-- A tenant partition gains a check, a key to public's table and an
-- index of its own.
CREATE TABLE ledger (id int NOT NULL, kind text NOT NULL, amount numeric) PARTITION BY LIST (kind);
CREATE TABLE ledger_credit PARTITION OF ledger (
  CONSTRAINT positive CHECK (amount >= 0),
  FOREIGN KEY (id) REFERENCES public.customer (id)
) FOR VALUES IN ('credit');
CREATE INDEX ledger_credit_amount ON ledger_credit (amount);
