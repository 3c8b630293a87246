DROP TABLE claim_revisions;
DROP TABLE claims;
DROP DOMAIN confidence_score;
DROP DOMAIN time_precision;
DROP DOMAIN claim_status;
DROP DOMAIN claim_kind;
