-- A review imported from a fact-checker's ClaimReview keeps where it came
-- from, as given: its URL (which identifies it on re-import), who published
-- it, when, the rating in the fact-checker's own words and scale, the
-- language, and the whole record, which is what its export gives back.
-- Reviews made in claimtrail have none of these.
ALTER TABLE claim_reviews
    ADD COLUMN source_url text,
    ADD COLUMN source_author jsonb,
    ADD COLUMN source_date_published text,
    ADD COLUMN source_rating jsonb,
    ADD COLUMN source_language text,
    ADD COLUMN source_document jsonb,
    ADD CONSTRAINT claim_reviews_source_whole
        CHECK ((source_url IS NULL) = (source_document IS NULL));
CREATE INDEX claim_reviews_source_url_idx ON claim_reviews (source_url) WHERE source_url IS NOT NULL;
