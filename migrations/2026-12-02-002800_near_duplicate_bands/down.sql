CREATE INDEX claims_text_trgm_gist_idx ON claims USING gist (lower(text) gist_trgm_ops);
DROP TRIGGER claims_duplicate_bands_updated ON claims;
DROP TRIGGER claims_duplicate_bands_inserted ON claims;
DROP FUNCTION claim_duplicate_bands_updated();
DROP FUNCTION claim_duplicate_bands_inserted();
DROP TABLE claim_duplicate_bands;
ALTER TABLE claims DROP COLUMN duplicate_bands;
