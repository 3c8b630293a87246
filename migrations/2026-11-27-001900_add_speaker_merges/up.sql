-- Two speaker records for one source are merged: the claims move to the
-- survivor (as new claim revisions), the other record stays, pointing at it.
ALTER TABLE speakers ADD COLUMN merged_into bigint REFERENCES speakers (id),
    ADD CONSTRAINT speakers_not_merged_into_self CHECK (merged_into <> id);
