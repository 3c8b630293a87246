DROP TABLE claim_appearances;
DROP FUNCTION claim_appearance_check_span();
