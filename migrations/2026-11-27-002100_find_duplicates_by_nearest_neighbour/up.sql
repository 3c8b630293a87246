-- Likely duplicates are the nearest claims by trigram distance. A GiST index
-- answers "the 5 nearest" without scoring every similar claim (a GIN index
-- can only filter, so a text shared by thousands of claims cost thousands of
-- similarity computations per insert).
DROP INDEX claims_text_trgm_idx;
CREATE INDEX claims_text_trgm_gist_idx ON claims USING gist (lower(text) gist_trgm_ops);
