DROP TRIGGER audit_chain_head_guard ON audit_chain_head;
DROP FUNCTION audit_chain_head_guard();
DROP TRIGGER audit_events_chain ON audit_events;
DROP FUNCTION audit_events_chain();
ALTER TABLE audit_events DROP COLUMN hash, DROP COLUMN prev_hash, DROP COLUMN chain_seq;
DROP FUNCTION audit_event_hash(bytea, audit_events);
DROP FUNCTION audit_field(text);
DROP TABLE audit_chain_head;
