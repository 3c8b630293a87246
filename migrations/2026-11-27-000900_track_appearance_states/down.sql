ALTER TABLE claim_appearances DROP CONSTRAINT claim_appearances_span_ordered;
ALTER TABLE claim_appearances ADD CONSTRAINT claim_appearances_span_ordered CHECK (span_end > span_start);
ALTER TABLE claim_appearances DROP COLUMN previous_excerpt, DROP COLUMN state;
DROP DOMAIN appearance_state;
