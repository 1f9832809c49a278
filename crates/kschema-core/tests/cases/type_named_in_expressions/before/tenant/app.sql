CREATE TYPE status AS ENUM ('open', 'review', 'done');
CREATE TABLE notes (
    id bigint PRIMARY KEY,
    label text NOT NULL DEFAULT ('open'::status)::text,
    tier text NOT NULL DEFAULT ('pro'::plan_tier)::text,
    CONSTRAINT label_known CHECK (label::status IS NOT NULL),
    CONSTRAINT tier_known CHECK (tier::plan_tier IS NOT NULL)
);
CREATE INDEX notes_reviewed ON notes (id) WHERE id > 0 AND 'review'::status IS NOT NULL;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER notes_touch BEFORE UPDATE ON notes FOR EACH ROW
    WHEN (NEW.label::status = 'review' OR NEW.tier::plan_tier = 'trial') EXECUTE FUNCTION touch();
ALTER TABLE notes DISABLE TRIGGER notes_touch;
CREATE VIEW reviewed_notes AS SELECT id FROM notes WHERE label::status = 'review';
CREATE VIEW paying_notes AS SELECT id FROM notes WHERE tier::plan_tier <> 'free';
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY known ON notes USING (label::status <> 'done' OR tier::plan_tier <> 'free');
CREATE FUNCTION first_label() RETURNS text LANGUAGE sql STABLE
    BEGIN ATOMIC SELECT ('open'::status)::text; END;
CREATE FUNCTION first_tier() RETURNS text LANGUAGE sql STABLE
    BEGIN ATOMIC SELECT ('trial'::plan_tier)::text; END;
