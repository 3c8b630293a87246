DROP INDEX claims_needs_review_idx;
ALTER TABLE claim_revisions DROP COLUMN needs_review;
ALTER TABLE claims DROP COLUMN needs_review;
