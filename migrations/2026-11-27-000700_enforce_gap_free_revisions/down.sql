DROP TRIGGER article_revisions_check_sequence ON article_revisions;
DROP FUNCTION article_revisions_check_sequence();
DROP TRIGGER claim_revisions_check_sequence ON claim_revisions;
DROP FUNCTION claim_revisions_check_sequence();
