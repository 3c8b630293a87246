ALTER TABLE speakers DROP COLUMN merged_into;
