-- Where each table goes on a Citus cluster, spread by story (docs/scaling.md):
-- 'story' tables are distributed by their story (the column named), co-located
-- with stories; 'reference' tables are small and global, copied to every
-- node; 'coordinator' tables stay on the coordinator (the transparency log,
-- which one sequencer writes in one order, and idempotency keys).
-- Without Citus nothing moves: the functions below only describe.
CREATE FUNCTION claimtrail_table_placement()
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

-- What keeps the story tables from being distributed by story, by Citus's
-- rules: the story column must exist and be NOT NULL; every primary key and
-- unique index must include it; a foreign key between two story tables must
-- join on it; a table outside them may not reference them.
CREATE FUNCTION claimtrail_distribution_blockers()
RETURNS TABLE (table_name text, blocker text)
LANGUAGE sql STABLE AS $$
    WITH story AS (
        SELECT p.table_name, p.story_column, to_regclass(p.table_name) AS rel, a.attnum, a.attnotnull
          FROM claimtrail_table_placement() p
          LEFT JOIN pg_attribute a
            ON a.attrelid = to_regclass(p.table_name) AND a.attname = p.story_column AND NOT a.attisdropped
         WHERE p.placement = 'story'
    )
    SELECT s.table_name, 'has no ' || s.story_column || ' column'
      FROM story s WHERE s.attnum IS NULL
    UNION ALL
    SELECT s.table_name, s.story_column || ' may be null'
      FROM story s WHERE s.attnum IS NOT NULL AND NOT s.attnotnull
    UNION ALL
    SELECT s.table_name, 'unique index ' || i.indexrelid::regclass::text || ' does not include ' || s.story_column
      FROM story s JOIN pg_index i ON i.indrelid = s.rel AND i.indisunique
     WHERE s.attnum IS NULL OR NOT (s.attnum = ANY (i.indkey::int2[]))
    UNION ALL
    SELECT s.table_name, 'foreign key ' || c.conname || ' to ' || r.table_name || ' does not join on ' || s.story_column
      FROM story s
      JOIN pg_constraint c ON c.conrelid = s.rel AND c.contype = 'f'
      JOIN story r ON r.rel = c.confrelid
     WHERE s.attnum IS NULL OR r.attnum IS NULL
        OR array_position(c.conkey, s.attnum) IS NULL
        OR c.confkey[array_position(c.conkey, s.attnum)] <> r.attnum
    UNION ALL
    SELECT c.conrelid::regclass::text, 'foreign key ' || c.conname || ' references the story table ' || r.table_name
      FROM pg_constraint c
      JOIN story r ON r.rel = c.confrelid
     WHERE c.contype = 'f' AND c.conrelid NOT IN (SELECT rel FROM story WHERE rel IS NOT NULL)
    ORDER BY 1, 2
$$;

-- With Citus installed in this database: the reference tables first, then,
-- once nothing blocks it, the story tables, co-located with stories.
DO $$
DECLARE
    t text;
    blockers bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RAISE NOTICE 'citus is not installed: every table stays on this server';
        RETURN;
    END IF;
    FOR t IN SELECT table_name FROM claimtrail_table_placement()
              WHERE placement = 'reference' ORDER BY step LOOP
        EXECUTE format('SELECT create_reference_table(%L)', t);
    END LOOP;
    SELECT count(*) INTO blockers FROM claimtrail_distribution_blockers();
    IF blockers > 0 THEN
        RAISE WARNING 'claimtrail: % constraints keep the story tables on the coordinator; SELECT * FROM claimtrail_distribution_blockers() lists them (docs/scaling.md)', blockers;
        RETURN;
    END IF;
    FOR t IN SELECT table_name FROM claimtrail_table_placement()
              WHERE placement = 'story' ORDER BY step LOOP
        IF t = 'stories' THEN
            EXECUTE format('SELECT create_distributed_table(%L, %L)', t, 'id');
        ELSE
            EXECUTE format('SELECT create_distributed_table(%L, %L, colocate_with => %L)', t, 'story_id', 'stories');
        END IF;
    END LOOP;
END $$;
