-- Events are sealed into the hash chain at COMMIT instead of at INSERT.
--
-- The chain head's row lock orders the chain, and a lock is held until the
-- transaction ends. Taken at INSERT, it was held across the client's round
-- trip to send COMMIT as well as the commit itself, so every writer waited
-- for the slowest client between its last statement and its COMMIT. Taken by
-- a deferred constraint trigger, it is held only while the transaction
-- commits. The chain order is still the commit order.
--
-- An event is inserted without chain fields; at commit, the deferred trigger
-- gives each event of the transaction, in insertion order, its chain_seq,
-- prev_hash and hash (one UPDATE, the only one audit_events allows), and the
-- last of them writes the chain head. After commit every event is sealed.
ALTER TABLE audit_events
    ALTER COLUMN chain_seq DROP NOT NULL,
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL;

DROP TRIGGER audit_chain_head_advance ON audit_events;
DROP FUNCTION audit_chain_head_advance();
DROP TRIGGER audit_events_chain ON audit_events;

-- At INSERT: chain fields are the database's to set; count the events the
-- transaction still has to seal (xid:count, transaction-local).
CREATE FUNCTION audit_events_pend() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    state   text := current_setting('claimtrail.audit_pending', true);
    xid     text := txid_current()::text;
    pending bigint := 0;
BEGIN
    IF state IS NOT NULL AND split_part(state, ':', 1) = xid THEN
        pending := split_part(state, ':', 2)::bigint;
    END IF;
    PERFORM set_config('claimtrail.audit_pending', xid || ':' || (pending + 1), true);
    NEW.chain_seq := NULL;
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_events_pend
    BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_pend();

-- At COMMIT: seal one event. The first event of the transaction locks the
-- head; the others continue from the transaction-local running state.
CREATE FUNCTION audit_events_seal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    xid     text := txid_current()::text;
    state   text := current_setting('claimtrail.audit_chain', true);
    pending bigint := split_part(current_setting('claimtrail.audit_pending', true), ':', 2)::bigint;
    e       audit_events := NEW;
    seq     bigint;
    prev    bytea;
BEGIN
    IF state IS NOT NULL AND split_part(state, ':', 1) = xid THEN
        seq  := split_part(state, ':', 2)::bigint;
        prev := decode(split_part(state, ':', 3), 'hex');
    ELSE
        SELECT last_seq, last_hash INTO seq, prev FROM audit_chain_head FOR UPDATE;
    END IF;
    e.chain_seq := seq + 1;
    e.prev_hash := prev;
    e.hash := audit_event_hash(prev, e);
    UPDATE audit_events SET chain_seq = e.chain_seq, prev_hash = e.prev_hash, hash = e.hash
     WHERE id = e.id;
    PERFORM set_config('claimtrail.audit_chain',
                       xid || ':' || e.chain_seq || ':' || encode(e.hash, 'hex'), true);
    PERFORM set_config('claimtrail.audit_pending', xid || ':' || (pending - 1), true);
    IF pending <= 1 THEN
        UPDATE audit_chain_head SET last_seq = e.chain_seq, last_hash = e.hash;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER audit_events_seal
    AFTER INSERT ON audit_events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION audit_events_seal();

-- Still append-only, except for the seal: an update from inside a trigger
-- that fills the chain fields of an unsealed event and changes nothing else.
CREATE FUNCTION audit_events_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
       AND OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.chain_seq IS NOT NULL
       AND (NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.subject_type, NEW.subject_id,
            NEW.story_id, NEW.before_revision, NEW.after_revision, NEW.request_id, NEW.details)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.actor, OLD.action, OLD.subject_type, OLD.subject_id,
            OLD.story_id, OLD.before_revision, OLD.after_revision, OLD.request_id, OLD.details)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege', HINT = 'write a new revision instead';
END
$$;

DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
