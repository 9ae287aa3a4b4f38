-- Revert mod_todo:token_key from pg

BEGIN;

DROP TABLE token_key;

COMMIT;
