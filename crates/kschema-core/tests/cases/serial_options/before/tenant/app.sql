CREATE TABLE tickets (id bigserial PRIMARY KEY);
CREATE SEQUENCE tickets_id_seq_holder;
