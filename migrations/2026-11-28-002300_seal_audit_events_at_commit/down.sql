DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
DROP FUNCTION audit_events_guard();

DROP TRIGGER audit_events_seal ON audit_events;
DROP FUNCTION audit_events_seal();
DROP TRIGGER audit_events_pend ON audit_events;
DROP FUNCTION audit_events_pend();

-- Back to sealing at INSERT (the function is the one of the previous migration).
CREATE TRIGGER audit_events_chain
    BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

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

ALTER TABLE audit_events
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL;
