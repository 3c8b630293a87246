DROP INDEX claim_reviews_source_url_idx;
ALTER TABLE claim_reviews
    DROP CONSTRAINT claim_reviews_source_whole,
    DROP COLUMN source_document, DROP COLUMN source_language, DROP COLUMN source_rating,
    DROP COLUMN source_date_published, DROP COLUMN source_author, DROP COLUMN source_url;
