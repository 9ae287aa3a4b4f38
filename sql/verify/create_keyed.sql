-- Verify mod_todo:create_keyed on pg: a keyed create writes the task and
-- its answer once; the same key again is a replay, another request with
-- it a mismatch; an expired answer gives way to a new write.  All rolled
-- back.

BEGIN;

DO $$
DECLARE
    a record;
    b record;
    n bigint;
BEGIN
    SELECT * INTO a FROM tasks_create_keyed('~v', 'verify', NULL, true,
        CAST(2 AS smallint), '2030-01-02 03:04:05.5+00', '{"data":', '}',
        '/t/', 'k', sha256('x'), 'r1', interval '1 day', 8);
    SELECT * INTO b FROM tasks_create_keyed('~v', 'verify', NULL, true,
        CAST(2 AS smallint), '2030-01-02 03:04:05.5+00', '{"data":', '}',
        '/t/', 'k', sha256('x'), 'r2', interval '1 day', 0);
    IF a.outcome <> 'done' OR a.status <> 201 OR b.outcome <> 'replay'
       OR b.body <> a.body OR b.request_id <> 'r1'
       OR a.body NOT LIKE '{"data":{"id":"%","user_id":"~v","title":"verify",'
                          '"description":null,"completed":true,'
                          '"completed_at":"%Z","priority":2,'
                          '"due_at":"2030-01-02T03:04:05.500000Z",'
                          '"created_at":"%Z","updated_at":"%Z","version":1}}'
    THEN
        RAISE EXCEPTION 'create, replay: % / %', a, b;
    END IF;
    SELECT count(*) INTO n FROM tasks WHERE user_id = '~v';
    IF n <> 1 OR a.location <> '/t/' || (SELECT id FROM tasks WHERE user_id = '~v') THEN
        RAISE EXCEPTION '% task(s) written for one key', n;
    END IF;
    SELECT * INTO b FROM tasks_create_keyed('~v', 'other', NULL, false,
        CAST(0 AS smallint), NULL, '{', '}', '/t/', 'k', sha256('y'), 'r3',
        interval '1 day', 0);
    IF b.outcome <> 'mismatch' THEN
        RAISE EXCEPTION 'another request with the key: %', b.outcome;
    END IF;
    UPDATE idempotency_keys SET created_at = now() - interval '2 days'
     WHERE user_id = '~v';
    SELECT * INTO b FROM tasks_create_keyed('~v', 'again', NULL, false,
        CAST(0 AS smallint), NULL, '{', '}', '/t/', 'k', sha256('y'), 'r4',
        interval '1 day', 0);
    SELECT count(*) INTO n FROM tasks WHERE user_id = '~v';
    IF b.outcome <> 'done' OR n <> 2 THEN
        RAISE EXCEPTION 'after expiry: %, % task(s)', b.outcome, n;
    END IF;
END
$$;

ROLLBACK;
