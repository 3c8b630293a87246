DROP TABLE speakers;
DROP DOMAIN speaker_kind;
