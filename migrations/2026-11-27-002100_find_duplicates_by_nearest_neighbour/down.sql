DROP INDEX claims_text_trgm_gist_idx;
CREATE INDEX claims_text_trgm_idx ON claims USING gin (lower(text) gin_trgm_ops);
