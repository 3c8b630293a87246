DROP INDEX claims_review_queue_idx;
ALTER TABLE claims DROP COLUMN assigned_at, DROP COLUMN assignee;
