-- The audit trail becomes a transparency log in the style of Certificate
-- Transparency (RFC 6962 / RFC 9162). The hash chain inside PostgreSQL
-- proved nothing to someone who distrusts the database (its superuser could
-- re-hash every event with audit_event_hash() and move the head), and its
-- head row, locked until COMMIT, serialized every write of every story.
--
-- Now an event commits with the change it records, with no global lock;
-- the service's sequencer later gives committed events their place in a
-- Merkle tree (audit_log_leaves, audit_log_hashes) and signs a checkpoint
-- of the tree with a key kept outside the database. Anyone who saved a
-- checkpoint can prove that no event it covers was changed, removed,
-- inserted or reordered. See docs/audit-log.md.

-- 1. No chain, no head lock. The columns of the retired chain stay on the
--    events that had them.
DROP TRIGGER audit_events_chain ON audit_events;
DROP TRIGGER audit_chain_head_advance ON audit_events;
DROP FUNCTION audit_events_chain();
DROP FUNCTION audit_chain_head_advance();
DROP TABLE audit_chain_head;
DROP FUNCTION audit_chain_head_guard();
DROP FUNCTION audit_event_hash(bytea, audit_events);
DROP FUNCTION audit_field(text);
ALTER TABLE audit_events
    ALTER COLUMN chain_seq DROP NOT NULL,
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL;
DROP INDEX audit_events_story_chain_idx;

-- 2. Each new event records the transaction that wrote it. The log's order
--    is (xact_id, id): a transaction older than the oldest one still
--    running can no longer add an event, so the events below that horizon
--    are final and are integrated as a prefix of that order, whenever the
--    sequencer runs. A trigger sets it, so no writer can choose its place.
ALTER TABLE audit_events ADD COLUMN xact_id xid8;
CREATE FUNCTION audit_events_stamp_transaction() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.xact_id := pg_current_xact_id();
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_events_stamp_transaction
    BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_stamp_transaction();
CREATE INDEX audit_events_log_order_idx ON audit_events (xact_id, id) WHERE xact_id IS NOT NULL;

-- 3. The log. A leaf is an event at a position; story_seq numbers a story's
--    events in log order (1, 2, 3…), so an auditor of one story can see
--    that none of its events between two it holds is missing.
CREATE TABLE audit_log_leaves (
    leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
    event_id   bigint NOT NULL REFERENCES audit_events (id),
    story_id   bigint REFERENCES stories (id),
    story_seq  bigint CHECK (story_seq >= 1),
    CONSTRAINT audit_log_leaves_event_once UNIQUE (event_id),
    CONSTRAINT audit_log_leaves_story_seq_once UNIQUE (story_id, story_seq),
    CONSTRAINT audit_log_leaves_story_seq_with_story CHECK ((story_id IS NULL) = (story_seq IS NULL))
);

-- The tree's hashes in the stored-hash order of Crosby and Wallach (as Go's
-- sumdb/tlog and c2sp.org/tlog-tiles store them): each leaf adds its own
-- hash and the hashes of the subtrees it completes.
CREATE TABLE audit_log_hashes (
    hash_index bigint PRIMARY KEY CHECK (hash_index >= 0),
    hash       bytea NOT NULL CHECK (octet_length(hash) = 32)
);

-- One signed checkpoint per integrated batch (c2sp.org/tlog-checkpoint in a
-- c2sp.org/signed-note). The signing key is never stored in the database.
CREATE TABLE audit_log_checkpoints (
    tree_size   bigint PRIMARY KEY CHECK (tree_size >= 0),
    root_hash   bytea NOT NULL CHECK (octet_length(root_hash) = 32),
    signed_note text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER audit_log_leaves_append_only
    BEFORE UPDATE OR DELETE ON audit_log_leaves
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER audit_log_leaves_no_truncate
    BEFORE TRUNCATE ON audit_log_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER audit_log_hashes_append_only
    BEFORE UPDATE OR DELETE ON audit_log_hashes
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER audit_log_hashes_no_truncate
    BEFORE TRUNCATE ON audit_log_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER audit_log_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER audit_log_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_log_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();

-- 4. The chained events come first, in chain order. Their hashes are made
--    by the sequencer the first time it runs.
INSERT INTO audit_log_leaves (leaf_index, event_id, story_id, story_seq)
SELECT row_number() OVER (ORDER BY chain_seq) - 1, id, story_id,
       CASE WHEN story_id IS NOT NULL
            THEN row_number() OVER (PARTITION BY story_id ORDER BY chain_seq) END
  FROM audit_events
 ORDER BY chain_seq;
