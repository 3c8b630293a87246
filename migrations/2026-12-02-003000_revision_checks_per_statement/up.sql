-- Gap-free revision numbers, checked once per statement instead of once per
-- row: a bulk import inserts thousands of revisions in one statement, and a
-- per-row trigger ran a plpgsql function and a max() look-up for each.
--
-- The rule is the same: a record's revisions are 1, 2, 3… with no gap. With
-- the primary key (no number twice), "revision 1, or the revision before it
-- exists" for every inserted row is that rule, since nothing is ever
-- deleted (the tables are append-only). The check runs after the statement,
-- on the rows it inserted (a transition table), with one index probe each;
-- the refusal names the same constraint as before.

DROP TRIGGER claim_revisions_check_sequence ON claim_revisions;
DROP FUNCTION claim_revisions_check_sequence();
DROP TRIGGER article_revisions_check_sequence ON article_revisions;
DROP FUNCTION article_revisions_check_sequence();
DROP TRIGGER speaker_revisions_check_sequence ON speaker_revisions;
DROP FUNCTION speaker_revisions_check_sequence();

CREATE FUNCTION claim_revisions_check_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT a.claim_id AS id, a.revision,
           (SELECT max(r.revision) FROM claim_revisions r
             WHERE r.claim_id = a.claim_id AND r.revision < a.revision) AS last
      INTO bad
      FROM added a
     WHERE a.revision < 1
        OR (a.revision > 1 AND NOT EXISTS (
              SELECT 1 FROM claim_revisions r
               WHERE r.claim_id = a.claim_id AND r.revision = a.revision - 1))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'claim % cannot get revision % (its last revision is %)',
            bad.id, bad.revision, coalesce(bad.last, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_revisions_gap_free';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER claim_revisions_check_sequence
    AFTER INSERT ON claim_revisions
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION claim_revisions_check_sequence();

CREATE FUNCTION article_revisions_check_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT a.article_id AS id, a.revision,
           (SELECT max(r.revision) FROM article_revisions r
             WHERE r.article_id = a.article_id AND r.revision < a.revision) AS last
      INTO bad
      FROM added a
     WHERE a.revision < 1
        OR (a.revision > 1 AND NOT EXISTS (
              SELECT 1 FROM article_revisions r
               WHERE r.article_id = a.article_id AND r.revision = a.revision - 1))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'article % cannot get revision % (its last revision is %)',
            bad.id, bad.revision, coalesce(bad.last, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'article_revisions_gap_free';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER article_revisions_check_sequence
    AFTER INSERT ON article_revisions
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION article_revisions_check_sequence();

CREATE FUNCTION speaker_revisions_check_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT a.speaker_id AS id, a.revision,
           (SELECT max(r.revision) FROM speaker_revisions r
             WHERE r.speaker_id = a.speaker_id AND r.revision < a.revision) AS last
      INTO bad
      FROM added a
     WHERE a.revision < 1
        OR (a.revision > 1 AND NOT EXISTS (
              SELECT 1 FROM speaker_revisions r
               WHERE r.speaker_id = a.speaker_id AND r.revision = a.revision - 1))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'speaker % cannot get revision % (its last revision is %)',
            bad.id, bad.revision, coalesce(bad.last, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'speaker_revisions_gap_free';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER speaker_revisions_check_sequence
    AFTER INSERT ON speaker_revisions
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION speaker_revisions_check_sequence();
