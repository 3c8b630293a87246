-- An appearance whose text an article revision removed is carried on, as a
-- `removed` row per article revision, and when the text comes back in a
-- later revision it is found again: `restored`.
ALTER DOMAIN appearance_state DROP CONSTRAINT appearance_state_check;
ALTER DOMAIN appearance_state ADD CONSTRAINT appearance_state_check
    CHECK (VALUE IN ('present', 'altered', 'removed', 'restored'));
