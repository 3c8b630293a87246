-- Back to the per-row checks.
DROP TRIGGER claim_revisions_check_sequence ON claim_revisions;
DROP FUNCTION claim_revisions_check_sequence();
DROP TRIGGER article_revisions_check_sequence ON article_revisions;
DROP FUNCTION article_revisions_check_sequence();
DROP TRIGGER speaker_revisions_check_sequence ON speaker_revisions;
DROP FUNCTION speaker_revisions_check_sequence();
CREATE FUNCTION claim_revisions_check_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last integer;
BEGIN
    SELECT max(revision) INTO last FROM claim_revisions WHERE claim_id = NEW.claim_id;
    IF NEW.revision <> coalesce(last, 0) + 1 THEN
        RAISE EXCEPTION 'claim % cannot get revision % (its last revision is %)',
            NEW.claim_id, NEW.revision, coalesce(last, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_revisions_gap_free';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER claim_revisions_check_sequence
    BEFORE INSERT ON claim_revisions
    FOR EACH ROW EXECUTE FUNCTION claim_revisions_check_sequence();

CREATE FUNCTION article_revisions_check_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last integer;
BEGIN
    SELECT max(revision) INTO last FROM article_revisions WHERE article_id = NEW.article_id;
    IF NEW.revision <> coalesce(last, 0) + 1 THEN
        RAISE EXCEPTION 'article % cannot get revision % (its last revision is %)',
            NEW.article_id, NEW.revision, coalesce(last, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'article_revisions_gap_free';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER article_revisions_check_sequence
    BEFORE INSERT ON article_revisions
    FOR EACH ROW EXECUTE FUNCTION article_revisions_check_sequence();
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
