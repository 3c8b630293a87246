-- Reviewers sign in to the pages under /ui/ with a token once; the browser
-- then holds a random session id in an HttpOnly cookie, never the token.
-- Only the id's SHA-256 is kept (as for tokens), with the token it came
-- from: revoking that token ends its sessions. Each session has its own
-- CSRF token, sent back in every form.
CREATE TABLE browser_sessions (
    id_sha256   bytea PRIMARY KEY CHECK (octet_length(id_sha256) = 32),
    token_id    bigint NOT NULL REFERENCES api_tokens (id),
    csrf_token  text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX browser_sessions_token_id_idx ON browser_sessions (token_id);
