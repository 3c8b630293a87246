-- The chain trigger used to rewrite the chain head row twice per event. Many
-- events in one transaction (a bulk import writes thousands) then pile up
-- row versions of that one row that every later update must walk past: the
-- cost grew with the square of the batch (1,000 events took 475 ms).
--
-- Now the first event of a transaction locks the head (SELECT … FOR UPDATE,
-- held to commit, which still orders the chain by commit), later events of
-- the transaction continue from a transaction-local setting, and the head
-- row is written once per INSERT statement. Setting changes made inside a
-- savepoint roll back with it, as the head row does.
-- The same canonical encoding (version 1), in PL/pgSQL: the SQL function
-- took a composite argument, so it was never inlined and its body was
-- planned again at every call (222 µs per event; this takes 13 µs).
CREATE OR REPLACE FUNCTION audit_event_hash(prev bytea, e audit_events) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    fields text[] := ARRAY[
        e.chain_seq::text,
        e.id::text,
        ((extract(epoch FROM e.occurred_at) * 1000000)::bigint)::text,
        e.actor,
        e.action,
        e.subject_type,
        e.subject_id::text,
        e.story_id::text,
        e.before_revision::text,
        e.after_revision::text,
        e.request_id,
        e.details::text];
    encoded text := 'claimtrail-audit-v1' || E'\n';
    f text;
BEGIN
    FOREACH f IN ARRAY fields LOOP
        encoded := encoded
            || CASE WHEN f IS NULL THEN '-' ELSE octet_length(convert_to(f, 'UTF8'))::text || ':' || f END
            || E'\n';
    END LOOP;
    RETURN sha256(prev || convert_to(encoded, 'UTF8'));
END
$$;

CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    state text := current_setting('claimtrail.audit_chain', true);
    xid   text := txid_current()::text;
    seq   bigint;
    prev  bytea;
BEGIN
    IF state IS NOT NULL AND split_part(state, ':', 1) = xid THEN
        seq  := split_part(state, ':', 2)::bigint;
        prev := decode(split_part(state, ':', 3), 'hex');
    ELSE
        SELECT last_seq, last_hash INTO seq, prev FROM audit_chain_head FOR UPDATE;
    END IF;
    NEW.chain_seq := seq + 1;
    NEW.prev_hash := prev;
    NEW.hash := audit_event_hash(prev, NEW);
    PERFORM set_config('claimtrail.audit_chain',
                       xid || ':' || NEW.chain_seq || ':' || encode(NEW.hash, 'hex'), true);
    RETURN NEW;
END
$$;

-- Writes the head once per statement, from the transaction's running state.
CREATE FUNCTION audit_chain_head_advance() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    state text := current_setting('claimtrail.audit_chain', true);
BEGIN
    IF state IS NOT NULL AND split_part(state, ':', 1) = txid_current()::text THEN
        UPDATE audit_chain_head
           SET last_seq = split_part(state, ':', 2)::bigint,
               last_hash = decode(split_part(state, ':', 3), 'hex');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_chain_head_advance
    AFTER INSERT ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_advance();
