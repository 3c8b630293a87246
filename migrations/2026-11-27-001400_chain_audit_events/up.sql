-- Audit events form a hash chain: each event's hash covers the previous hash
-- and a canonical encoding of the event, so changing, removing or reordering
-- any event breaks every hash after it. `claimtrail audit verify` recomputes
-- the chain independently and names the first broken event.
--
-- The chain head is one row; taking its lock orders event inserts, so
-- chain_seq follows commit order (events are written last in every
-- transaction, after its other row locks).
CREATE TABLE audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_seq  bigint NOT NULL,
    last_hash bytea NOT NULL CHECK (octet_length(last_hash) = 32)
);
INSERT INTO audit_chain_head VALUES (true, 0, decode(repeat('00', 32), 'hex'));

ALTER TABLE audit_events
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;

-- The canonical encoding, version 1: a header line, then every field as
-- `<byte length>:<text>` (or `-` for NULL), one per line. Timestamps are
-- microseconds since the epoch; details are jsonb's own text form.
CREATE FUNCTION audit_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN '-' ELSE octet_length(convert_to(v, 'UTF8'))::text || ':' || v END || E'\n'
$$;

CREATE FUNCTION audit_event_hash(prev bytea, e audit_events) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || convert_to(
        'claimtrail-audit-v1' || E'\n'
        || audit_field(e.chain_seq::text)
        || audit_field(e.id::text)
        || audit_field(((extract(epoch FROM e.occurred_at) * 1000000)::bigint)::text)
        || audit_field(e.actor)
        || audit_field(e.action)
        || audit_field(e.subject_type)
        || audit_field(e.subject_id::text)
        || audit_field(e.story_id::text)
        || audit_field(e.before_revision::text)
        || audit_field(e.after_revision::text)
        || audit_field(e.request_id)
        || audit_field(e.details::text),
        'UTF8'))
$$;

-- Chain the events that already exist, in id order.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
DO $$
DECLARE
    e    audit_events;
    seq  bigint := 0;
    prev bytea := decode(repeat('00', 32), 'hex');
BEGIN
    FOR e IN SELECT * FROM audit_events ORDER BY id LOOP
        seq := seq + 1;
        e.chain_seq := seq;
        UPDATE audit_events
           SET chain_seq = seq, prev_hash = prev, hash = audit_event_hash(prev, e)
         WHERE id = e.id
        RETURNING hash INTO prev;
    END LOOP;
    UPDATE audit_chain_head SET last_seq = seq, last_hash = prev;
END
$$;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;

ALTER TABLE audit_events
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT audit_events_chain_seq_key UNIQUE (chain_seq);

CREATE FUNCTION audit_events_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head audit_chain_head;
BEGIN
    UPDATE audit_chain_head SET last_seq = last_seq + 1 RETURNING * INTO head;
    NEW.chain_seq := head.last_seq;
    NEW.prev_hash := head.last_hash;
    NEW.hash := audit_event_hash(head.last_hash, NEW);
    UPDATE audit_chain_head SET last_hash = NEW.hash;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_events_chain
    BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

-- The head is rewritten only by the chain trigger.
CREATE FUNCTION audit_chain_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'audit_chain_head is maintained by the audit_events_chain trigger'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_chain_head_guard
    BEFORE UPDATE OR DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
