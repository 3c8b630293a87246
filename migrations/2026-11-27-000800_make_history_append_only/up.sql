-- History is append-only in the database itself, not only in the application:
-- UPDATE, DELETE and TRUNCATE on these tables raise an error for every role
-- (only a superuser who disables the triggers can get around them, and the
-- audit chain exists to catch that).
CREATE FUNCTION reject_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege', HINT = 'write a new revision instead';
END
$$;

CREATE TRIGGER article_revisions_append_only
    BEFORE UPDATE OR DELETE ON article_revisions
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER article_revisions_no_truncate
    BEFORE TRUNCATE ON article_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();

CREATE TRIGGER claim_revisions_append_only
    BEFORE UPDATE OR DELETE ON claim_revisions
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER claim_revisions_no_truncate
    BEFORE TRUNCATE ON claim_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();

CREATE TRIGGER claim_appearances_append_only
    BEFORE UPDATE OR DELETE ON claim_appearances
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER claim_appearances_no_truncate
    BEFORE TRUNCATE ON claim_appearances
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();
