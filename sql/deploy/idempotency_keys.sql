-- Deploy mod_todo:idempotency_keys to pg
-- requires: token_key
--
-- Idempotency-Key (docs/api.md §9): the first write with a key stores its
-- answer here, in the same statement (so the same transaction) as the
-- write itself: after a crash either both exist or neither.  A repeat
-- with the same key gets the stored answer again, byte for byte.
--
-- Keyed by user_id first, like every table the module writes: keys are
-- scoped to their user, and the table can be distributed with tasks.
-- Rows are written once and never updated.  Expired rows (older than
-- TodoIdempotencyRetention) are deleted by the user's own next keyed
-- writes, a few at a time (the _created index): no job to schedule.

BEGIN;

CREATE TABLE idempotency_keys (
    user_id     text        NOT NULL,
    key         text        NOT NULL,
    -- SHA-256 of the request: method, operation, task id, body bytes.
    fingerprint bytea       NOT NULL,
    -- The answer: status, ETag, Location and body (NULL for a 204).
    status      smallint    NOT NULL,
    etag        text,
    location    text,
    body        text,
    -- The X-Request-Id of the request that made the answer (for the log).
    request_id  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_key_check
        CHECK (octet_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_fingerprint_check
        CHECK (octet_length(fingerprint) = 32),
    CONSTRAINT idempotency_keys_status_check
        CHECK (status BETWEEN 200 AND 499)
);

COMMENT ON TABLE idempotency_keys IS 'mod_todo: Idempotency-Key answers, per user; pruned by the module after TodoIdempotencyRetention';

CREATE INDEX idempotency_keys_user_created_idx
    ON idempotency_keys (user_id, created_at);

COMMIT;
