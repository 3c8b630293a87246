DROP TRIGGER claim_revisions_record_speaker_revision ON claim_revisions;
DROP FUNCTION claim_revisions_record_speaker_revision();
ALTER TABLE claim_revisions DROP CONSTRAINT claim_revisions_speaker_revision_fkey;
ALTER TABLE claim_revisions DROP COLUMN speaker_revision;
DROP TABLE speaker_revisions;
DROP FUNCTION speaker_revisions_check_sequence();
ALTER TABLE speakers DROP COLUMN updated_at, DROP COLUMN revision;
