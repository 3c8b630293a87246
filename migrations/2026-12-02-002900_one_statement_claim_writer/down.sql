CREATE OR REPLACE FUNCTION claim_appearance_check_span() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    chars integer;
    doc   text;
BEGIN
    SELECT body_chars, body INTO chars, doc
      FROM article_revisions
     WHERE article_id = NEW.article_id AND revision = NEW.article_revision;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'article % has no revision %', NEW.article_id, NEW.article_revision
            USING ERRCODE = 'foreign_key_violation';
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
DROP FUNCTION claim_span_refused(bigint, bigint, bigint);
