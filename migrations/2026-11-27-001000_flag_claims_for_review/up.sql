-- A claim whose supporting text was edited or removed by an article revision
-- needs a reviewer's eyes again; the flag is part of every revision snapshot.
ALTER TABLE claims ADD COLUMN needs_review boolean NOT NULL DEFAULT false;
ALTER TABLE claim_revisions ADD COLUMN needs_review boolean NOT NULL DEFAULT false;
CREATE INDEX claims_needs_review_idx ON claims (story_id, id) WHERE needs_review;
