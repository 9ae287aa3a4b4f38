-- Deploy mod_todo:token_key to pg
-- requires: task_counts_fillfactor
--
-- The list cursors and the sync tokens the API hands out are opaque and
-- tamper-evident: each carries an HMAC-SHA256 made with this key
-- (docs/api.md §5, §10).  The key lives in the database, so it is the same
-- for every Apache child and every Apache server using this database, and
-- outlives restarts: a token made by one server is good on the next.  Each
-- Apache child reads it once, when it first needs it.
--
-- 256 bits from PostgreSQL's strong random source: each gen_random_uuid()
-- holds 122 random bits; SHA-256 folds three of them into 32 bytes.
-- Rotating it (docs/operations.md) invalidates every outstanding cursor
-- and token: clients get 400 and start again (a full sync).
--
-- Not a user's data, so not keyed by user_id: one row, read-only for the
-- module.

BEGIN;

CREATE TABLE token_key (
    id     smallint NOT NULL DEFAULT 1 PRIMARY KEY CHECK (id = 1),
    secret bytea    NOT NULL CHECK (octet_length(secret) >= 32)
);

COMMENT ON TABLE token_key IS 'mod_todo: the HMAC key of list cursors and sync tokens';

INSERT INTO token_key (secret)
SELECT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                         || gen_random_uuid()::text, 'UTF8'));

COMMIT;
