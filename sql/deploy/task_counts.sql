-- Deploy mod_todo:task_counts to pg
-- requires: tasks
--
-- Every list answer carries `total`.  Counting a user's tasks costs one
-- index entry per task on every list request: with 500 tasks it was half
-- of the database's time for a plain list, and it grows with the user.
-- This table keeps, per user, how many tasks there are and how many are
-- completed, so the two commonest lists (no filter, or only a status)
-- read their total from one row.  Lists with other filters still count.
--
-- A trigger keeps the counts, so they stay right whoever writes to tasks
-- (the module, psql, a migration).  The cost: each insert or delete, and
-- each update that changes `completed` or `user_id`, also updates the
-- user's row here, so one user's concurrent writes queue on that row until
-- their transactions end.  Keyed by user_id like tasks, so it can be
-- distributed (and co-located) with it.

BEGIN;

-- No write to tasks between the count below and the trigger.
LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE task_counts (
    user_id   text   NOT NULL PRIMARY KEY,
    total     bigint NOT NULL,
    -- No CHECK (0 <= completed <= total): were the counts ever off (tasks
    -- written with the triggers disabled), a wrong total is better than
    -- refusing the user's writes.  The README says how to rebuild them.
    completed bigint NOT NULL
);

CREATE FUNCTION task_counts_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.user_id = NEW.user_id THEN
        UPDATE task_counts
           SET completed = completed + NEW.completed::int - OLD.completed::int
         WHERE user_id = NEW.user_id;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        UPDATE task_counts
           SET total = total - 1, completed = completed - OLD.completed::int
         WHERE user_id = OLD.user_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO task_counts AS c (user_id, total, completed)
        VALUES (NEW.user_id, 1, NEW.completed::int)
        ON CONFLICT (user_id) DO UPDATE
           SET total = c.total + 1,
               completed = c.completed + excluded.completed;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION task_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE task_counts;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_counts_insert_delete AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counts_row();
-- Most updates (title, priority, ...) leave the counts alone; the WHEN
-- clause spares them the function call.
CREATE TRIGGER task_counts_update AFTER UPDATE OF user_id, completed ON tasks
    FOR EACH ROW
    WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id
          OR OLD.completed IS DISTINCT FROM NEW.completed)
    EXECUTE FUNCTION task_counts_row();
CREATE TRIGGER task_counts_truncate AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION task_counts_truncate();

INSERT INTO task_counts (user_id, total, completed)
SELECT user_id, count(*), count(*) FILTER (WHERE completed)
  FROM tasks
 GROUP BY user_id;

COMMIT;
