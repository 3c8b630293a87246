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

CREATE OR REPLACE FUNCTION audit_event_hash(prev bytea, e audit_events) RETURNS bytea
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
