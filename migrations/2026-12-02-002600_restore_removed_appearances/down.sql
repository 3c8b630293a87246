ALTER DOMAIN appearance_state DROP CONSTRAINT appearance_state_check;
ALTER DOMAIN appearance_state ADD CONSTRAINT appearance_state_check
    CHECK (VALUE IN ('present', 'altered', 'removed'));
