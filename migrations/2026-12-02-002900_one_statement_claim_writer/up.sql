-- New claims are written by one statement (src/storage/claims/create.rs)
-- that checks nothing first: the database refuses what breaks the ledger.
-- Two refusals it could not express before get names here, so that the
-- service can tell them apart:
--
-- a span into an article of another story (or of no story: the article
-- does not exist), refused from inside the statement;
CREATE FUNCTION claim_span_refused(article bigint, article_story bigint, claim_story bigint)
RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    IF article_story IS NULL THEN
        RAISE EXCEPTION 'article % does not exist', article
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'claim_appearances_article_exists';
    END IF;
    RAISE EXCEPTION 'article % belongs to story %, not to the claim''s story %',
        article, article_story, claim_story
        USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_appearances_same_story';
END
$$;

-- and a span into an article revision that does not exist. A reversed or
-- negative span is refused by name before the excerpt is cut (its table
-- constraints are checked only after this trigger, and substr would fail
-- first on a negative length).
CREATE OR REPLACE FUNCTION claim_appearance_check_span() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    chars integer;
    doc   text;
BEGIN
    -- (A removed appearance may be empty: its text is gone.)
    IF NEW.span_start < 0 OR NEW.span_end < NEW.span_start
       OR (NEW.span_end = NEW.span_start AND NEW.state IS DISTINCT FROM 'removed') THEN
        RAISE EXCEPTION 'span [%, %) must start at 0 or later and end after it starts',
            NEW.span_start, NEW.span_end
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_appearances_span_ordered';
    END IF;
    SELECT body_chars, body INTO chars, doc
      FROM article_revisions
     WHERE article_id = NEW.article_id AND revision = NEW.article_revision;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'article % has no revision %', NEW.article_id, NEW.article_revision
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'claim_appearances_article_revision_exists';
    END IF;
    IF NEW.span_end > chars THEN
        RAISE EXCEPTION 'span [%, %) lies outside revision % of article % (% characters)',
            NEW.span_start, NEW.span_end, NEW.article_revision, NEW.article_id, chars
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_appearances_span_inside_body';
    END IF;
    NEW.excerpt := substr(doc, NEW.span_start + 1, NEW.span_end - NEW.span_start);
    RETURN NEW;
END
$$;
