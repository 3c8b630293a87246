DROP TRIGGER audit_chain_head_advance ON audit_events;
DROP FUNCTION audit_chain_head_advance();

CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger
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
