-- Who is working on a claim: review workflow state, not claim content, so it
-- lives on the head only (every change is in the audit log).
ALTER TABLE claims ADD COLUMN assignee text, ADD COLUMN assigned_at timestamptz;
CREATE INDEX claims_review_queue_idx ON claims (id)
    WHERE status IN ('unverified', 'in_review') OR needs_review;
