DROP TABLE article_captures;
DROP TABLE watch_items;
DROP TABLE watches;
CREATE OR REPLACE FUNCTION claimtrail_table_placement()
RETURNS TABLE (table_name text, placement text, story_column text, step int)
LANGUAGE sql IMMUTABLE AS $$
    VALUES ('stories', 'story', 'id', 1),
           ('articles', 'story', 'story_id', 2),
           ('article_revisions', 'story', 'story_id', 3),
           ('claims', 'story', 'story_id', 4),
           ('claim_revisions', 'story', 'story_id', 5),
           ('claim_appearances', 'story', 'story_id', 6),
           ('claim_reviews', 'story', 'story_id', 7),
           ('claim_comments', 'story', 'story_id', 8),
           ('claim_relations', 'story', 'story_id', 9),
           ('claim_duplicate_bands', 'story', 'story_id', 10),
           ('audit_events', 'story', 'story_id', 11),
           ('users', 'reference', NULL, 1),
           ('api_tokens', 'reference', NULL, 2),
           ('browser_sessions', 'reference', NULL, 3),
           ('speakers', 'reference', NULL, 4),
           ('speaker_revisions', 'reference', NULL, 5),
           ('text_keys_version', 'reference', NULL, 6),
           ('idempotency_keys', 'coordinator', NULL, 1),
           ('audit_log_leaves', 'coordinator', NULL, 2),
           ('audit_log_hashes', 'coordinator', NULL, 3),
           ('audit_log_checkpoints', 'coordinator', NULL, 4),
           ('__diesel_schema_migrations', 'coordinator', NULL, 5)
$$;
