-- Revert mod_todo:idempotency_keys from pg

BEGIN;

DROP TABLE idempotency_keys;

COMMIT;
