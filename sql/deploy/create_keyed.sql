-- Deploy mod_todo:create_keyed to pg
-- requires: due_keyset_indexes
--
-- A create with an Idempotency-Key (docs/api.md §9) as one function call:
-- the module's statement todo_create_idem is
-- "SELECT ... FROM tasks_create_keyed(...)".  It was one statement of nine
-- CTEs, whose generic plan PostgreSQL set up in full on every execution,
-- lock, look-up and pruning included, and which rendered the answer with
-- a sub-select: 1.9x the database time of a plain create.  Here the usual
-- path runs two cached INSERTs and evaluates the rest as expressions
-- (bench/RESULTS.md has the figures):
--
-- 1. the transaction-scoped advisory lock on (user, key), tried without
--    waiting, as every keyed statement takes it: held, no other request
--    with the key can write until this one commits.  Not held: another
--    request with the key is running -- its stored answer if there is one
--    already (a replay or a mismatch), else "busy" (409);
-- 2. the task's id is drawn first and its created_at/updated_at are
--    now(), the transaction's start, so the 201's body is known before
--    either row is written;
-- 3. the answer is stored ON CONFLICT DO NOTHING.  A conflict is the key's
--    earlier answer (committed: whoever wrote it held the lock): if it is
--    live, it is the answer (replay or mismatch) and nothing is written;
--    if it has expired, it is deleted and this answer stored instead;
-- 4. one call in TODO_SQL_PRUNE_EVERY (p_prune > 0) deletes up to p_prune
--    of the user's expired answers, skipping rows others are deleting;
-- 5. the task is inserted with the very values of the body (id,
--    timestamps, version 1).  Its triggers are the table's own, as for a
--    plain create.
--
-- The answer's JSON is the module's own rendering of a task (todo_json.c):
-- task_json lists the fields in the API's order, task_json_time writes a
-- timestamp as the module does (RFC 3339, UTC, six fraction digits).  The
-- module's other keyed statements (todo_sql.c) render their answers with
-- them too.  SECURITY INVOKER: the calling role needs its grants on tasks
-- and idempotency_keys, as for the module's own statements; EXECUTE on
-- functions and USAGE on types are PUBLIC's by default.

BEGIN;

CREATE TYPE task_json AS (
    id           uuid,
    user_id      text,
    title        text,
    description  text,
    completed    boolean,
    completed_at text,
    priority     smallint,
    due_at       text,
    created_at   text,
    updated_at   text,
    version      bigint
);

COMMENT ON TYPE task_json IS 'mod_todo: a task as the API writes it (row_to_json)';

-- "2026-11-22 10:31:59.9793" (the text of the UTC time under DateStyle
-- ISO, the module's session setting, trailing zeros of the fraction
-- dropped) -> "2026-11-22T10:31:59.979300Z".  A plain SQL function, so
-- PostgreSQL inlines it.  (to_char() would say it in one call, at three
-- times the cost.)
CREATE FUNCTION task_json_time(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT overlay(rpad(CAST(ts AT TIME ZONE 'UTC' AS text)
                        || CASE WHEN length(CAST(ts AT TIME ZONE 'UTC' AS text)) = 19
                                THEN '.' ELSE '' END, 26, '0')
                   placing 'T' from 11) || 'Z'
$$;

-- The columns are those of the module's other keyed statements
-- (todo_sql.c, IDEM_RESULT): outcome is 'done', 'replay', 'mismatch' or
-- 'busy'; request_id is that of the stored answer's request (replay,
-- mismatch).  p_head and p_tail are the JSON envelope around the task,
-- p_loc the Location without the id.
CREATE FUNCTION tasks_create_keyed(
    p_uid text, p_title text, p_descr text, p_done boolean,
    p_prio smallint, p_due timestamptz,
    p_head text, p_tail text, p_loc text,
    p_key text, p_fp bytea, p_rid text, p_keep interval, p_prune integer,
    OUT outcome text, OUT status integer, OUT etag text,
    OUT location text, OUT body text, OUT request_id text)
    LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := gen_random_uuid();
    v_done timestamptz := CASE WHEN p_done THEN now() END;
    v_write boolean := false;
    k idempotency_keys;
BEGIN
    IF NOT pg_try_advisory_xact_lock(
            hashtextextended(p_uid || chr(10) || p_key, 0)) THEN
        SELECT * INTO k FROM idempotency_keys i
         WHERE i.user_id = p_uid AND i.key = p_key
           AND i.created_at > now() - p_keep;
        IF NOT FOUND THEN
            outcome := 'busy';
            RETURN;
        END IF;
    ELSE
        status := 201;
        etag := '"1"';
        location := p_loc || v_id;
        body := p_head || CAST(row_to_json(ROW(v_id, p_uid, p_title, p_descr,
            p_done, task_json_time(v_done), p_prio, task_json_time(p_due),
            task_json_time(now()), task_json_time(now()), 1)::task_json)
            AS text) || p_tail;
        INSERT INTO idempotency_keys (user_id, key, fingerprint, request_id,
                                      status, etag, location, body)
        VALUES (p_uid, p_key, p_fp, p_rid, status, etag, location, body)
        ON CONFLICT (user_id, key) DO NOTHING;
        v_write := FOUND;
        IF NOT v_write THEN
            -- Gone already: an expired answer, pruned meanwhile.
            SELECT * INTO k FROM idempotency_keys i
             WHERE i.user_id = p_uid AND i.key = p_key;
            IF NOT FOUND OR k.created_at <= now() - p_keep THEN
                DELETE FROM idempotency_keys i
                 WHERE i.user_id = p_uid AND i.key = p_key;
                INSERT INTO idempotency_keys (user_id, key, fingerprint,
                                              request_id, status, etag,
                                              location, body)
                VALUES (p_uid, p_key, p_fp, p_rid, status, etag, location,
                        body);
                v_write := true;
            END IF;
        END IF;
    END IF;
    IF NOT v_write THEN
        outcome := CASE WHEN k.fingerprint = p_fp THEN 'replay'
                        ELSE 'mismatch' END;
        status := k.status;
        etag := k.etag;
        location := k.location;
        body := k.body;
        request_id := k.request_id;
        RETURN;
    END IF;
    IF p_prune > 0 THEN
        DELETE FROM idempotency_keys d
         WHERE d.user_id = p_uid
           AND d.ctid = ANY (ARRAY(
               SELECT i.ctid FROM idempotency_keys i
                WHERE i.user_id = p_uid AND i.created_at <= now() - p_keep
                ORDER BY i.created_at LIMIT p_prune
                  FOR UPDATE SKIP LOCKED));
    END IF;
    INSERT INTO tasks (id, user_id, title, description, completed,
                       completed_at, priority, due_at, created_at,
                       updated_at, version)
    VALUES (v_id, p_uid, p_title, p_descr, p_done, v_done, p_prio, p_due,
            now(), now(), 1);
    outcome := 'done';
END
$$;

COMMIT;
