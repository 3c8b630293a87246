DROP TRIGGER audit_events_no_truncate ON audit_events;
DROP TRIGGER audit_events_append_only ON audit_events;
DROP TRIGGER claim_appearances_no_truncate ON claim_appearances;
DROP TRIGGER claim_appearances_append_only ON claim_appearances;
DROP TRIGGER claim_revisions_no_truncate ON claim_revisions;
DROP TRIGGER claim_revisions_append_only ON claim_revisions;
DROP TRIGGER article_revisions_no_truncate ON article_revisions;
DROP TRIGGER article_revisions_append_only ON article_revisions;
DROP FUNCTION reject_history_change();
