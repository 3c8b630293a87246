-- Speakers change too: a job, a title, an affiliation. Every change writes
-- a speaker revision (If-Match, reason, author, audit event), as claims do,
-- and each claim revision records which revision of its speaker it was
-- logged against, so that history shows what the speaker was called then.
ALTER TABLE speakers
    ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE speakers ALTER COLUMN revision DROP DEFAULT;
UPDATE speakers SET updated_at = created_at;

CREATE TABLE speaker_revisions (
    speaker_id  bigint NOT NULL REFERENCES speakers (id),
    revision    integer NOT NULL CHECK (revision >= 1),
    kind        speaker_kind NOT NULL,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    role        text,
    affiliation text,
    aliases     text[] NOT NULL DEFAULT '{}',
    merged_into bigint REFERENCES speakers (id),
    author      text NOT NULL,
    reason      text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (speaker_id, revision)
);

CREATE FUNCTION speaker_revisions_check_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last integer;
BEGIN
    SELECT max(revision) INTO last FROM speaker_revisions WHERE speaker_id = NEW.speaker_id;
    IF NEW.revision <> coalesce(last, 0) + 1 THEN
        RAISE EXCEPTION 'speaker % cannot get revision % (its last revision is %)',
            NEW.speaker_id, NEW.revision, coalesce(last, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'speaker_revisions_gap_free';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER speaker_revisions_check_sequence
    BEFORE INSERT ON speaker_revisions
    FOR EACH ROW EXECUTE FUNCTION speaker_revisions_check_sequence();
CREATE TRIGGER speaker_revisions_append_only
    BEFORE UPDATE OR DELETE ON speaker_revisions
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER speaker_revisions_no_truncate
    BEFORE TRUNCATE ON speaker_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();

-- Every speaker as it stands is its revision 1.
INSERT INTO speaker_revisions (speaker_id, revision, kind, name, role, affiliation, aliases,
                               merged_into, author, reason, recorded_at)
SELECT id, 1, kind, name, role, affiliation, aliases, merged_into, 'migration',
       'the speaker as recorded before speakers had revisions', created_at
  FROM speakers ORDER BY id;

-- Claim revisions written so far were logged against revision 1 (speakers
-- could not change before). New ones record their speaker's revision in
-- the database itself, whichever writer inserts them.
ALTER TABLE claim_revisions ADD COLUMN speaker_revision integer NOT NULL DEFAULT 1;
ALTER TABLE claim_revisions ALTER COLUMN speaker_revision DROP DEFAULT;
ALTER TABLE claim_revisions ADD CONSTRAINT claim_revisions_speaker_revision_fkey
    FOREIGN KEY (speaker_id, speaker_revision) REFERENCES speaker_revisions (speaker_id, revision);

CREATE FUNCTION claim_revisions_record_speaker_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT revision INTO NEW.speaker_revision FROM speakers WHERE id = NEW.speaker_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER claim_revisions_record_speaker_revision
    BEFORE INSERT ON claim_revisions
    FOR EACH ROW EXECUTE FUNCTION claim_revisions_record_speaker_revision();
