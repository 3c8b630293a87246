-- A POST retried with the same Idempotency-Key gets the first response back
-- instead of writing again. The key is stored in the transaction of the
-- write it protects, so a key exists exactly when its write committed.
CREATE TABLE idempotency_keys (
    actor          text NOT NULL,
    key            text NOT NULL,
    method         text NOT NULL,
    path           text NOT NULL,
    request_sha256 bytea NOT NULL,
    status         smallint,
    response_body  bytea,
    location       text,
    etag           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);
