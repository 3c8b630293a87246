-- A story timeline page reads its events in chain order.
CREATE INDEX audit_events_story_chain_idx ON audit_events (story_id, chain_seq);
