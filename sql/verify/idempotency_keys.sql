-- Verify mod_todo:idempotency_keys on pg: the columns exist, keys are per
-- user, and no 5xx answer can be stored.

BEGIN;

SELECT user_id, key, fingerprint, status, etag, location, body, request_id,
       created_at
  FROM idempotency_keys
 WHERE false;

DO $$
BEGIN
    INSERT INTO idempotency_keys (user_id, key, fingerprint, status, request_id)
    VALUES ('~a', 'k', sha256('x'), 201, 'r'), ('~b', 'k', sha256('x'), 201, 'r');
    BEGIN
        INSERT INTO idempotency_keys (user_id, key, fingerprint, status, request_id)
        VALUES ('~c', 'k', sha256('x'), 503, 'r');
        RAISE EXCEPTION 'a 5xx answer was stored';
    EXCEPTION WHEN check_violation THEN
        NULL;
    END;
END
$$;

ROLLBACK;
