-- When an article is revised, each appearance on the old revision is carried
-- to the new one as a new row that says what became of it.
CREATE DOMAIN appearance_state AS text CHECK (VALUE IN ('present', 'altered', 'removed'));

ALTER TABLE claim_appearances
    ADD COLUMN state appearance_state NOT NULL DEFAULT 'present',
    -- For altered and removed appearances: what the span said before.
    ADD COLUMN previous_excerpt text;

-- A removed appearance is an empty span at the place the text used to be.
ALTER TABLE claim_appearances DROP CONSTRAINT claim_appearances_span_ordered;
ALTER TABLE claim_appearances ADD CONSTRAINT claim_appearances_span_ordered
    CHECK (span_end > span_start OR (state = 'removed' AND span_end = span_start));
