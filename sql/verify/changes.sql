-- Verify mod_todo:changes on pg: inserts and updates record their
-- transaction, deletes leave a tombstone with theirs.

BEGIN;

SELECT change_xid FROM tasks WHERE false;
SELECT user_id, id, deleted_at, change_xid FROM task_tombstones WHERE false;
SELECT user_id, pruned_xid FROM tombstone_horizons WHERE false;

DO $$
DECLARE
    me bigint := CAST(CAST(pg_current_xact_id() AS text) AS bigint);
    tid uuid;
BEGIN
    INSERT INTO tasks (user_id, title) VALUES ('~verify', 'a') RETURNING id INTO tid;
    IF (SELECT change_xid FROM tasks WHERE user_id = '~verify' AND id = tid) <> me THEN
        RAISE EXCEPTION 'an insert does not record its transaction';
    END IF;
    UPDATE tasks SET change_xid = 0 WHERE user_id = '~verify' AND id = tid;
    IF (SELECT change_xid FROM tasks WHERE user_id = '~verify' AND id = tid) <> me THEN
        RAISE EXCEPTION 'an update does not record its transaction';
    END IF;
    DELETE FROM tasks WHERE user_id = '~verify' AND id = tid;
    IF NOT EXISTS (SELECT 1 FROM task_tombstones
                    WHERE user_id = '~verify' AND id = tid AND change_xid = me) THEN
        RAISE EXCEPTION 'a delete leaves no tombstone';
    END IF;
END
$$;

ROLLBACK;
