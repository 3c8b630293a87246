-- "What did the ledger say at T": the latest revision recorded at or before T,
-- per claim of a story, and per article.
CREATE INDEX claim_revisions_story_time_idx ON claim_revisions (story_id, claim_id, revision DESC);
CREATE INDEX claim_revisions_recorded_at_idx ON claim_revisions (claim_id, recorded_at);
CREATE INDEX claim_reviews_created_at_idx ON claim_reviews (claim_id, created_at);
