DROP INDEX article_revisions_headline_search_idx;
DROP INDEX speakers_search_idx;
ALTER TABLE speakers DROP COLUMN search_vector;
DROP INDEX claims_text_trgm_idx;
DROP INDEX claims_search_idx;
ALTER TABLE claims DROP COLUMN search_vector;
DROP FUNCTION immutable_join(text[]);
