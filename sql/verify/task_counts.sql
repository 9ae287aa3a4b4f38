-- Verify mod_todo:task_counts on pg: the table exists, and the counts
-- follow inserts, updates, deletes and agree with the tasks table.

BEGIN;

SELECT user_id, total, completed FROM task_counts WHERE false;

DO $$
DECLARE
    bad bigint;
BEGIN
    INSERT INTO tasks (user_id, title) VALUES ('~verify', 'a'), ('~verify', 'b');
    UPDATE tasks SET completed = true, completed_at = now()
     WHERE user_id = '~verify' AND title = 'a';
    DELETE FROM tasks WHERE user_id = '~verify' AND title = 'b';
    IF (SELECT (total, completed) FROM task_counts WHERE user_id = '~verify')
       IS DISTINCT FROM (1::bigint, 1::bigint) THEN
        RAISE EXCEPTION 'task_counts does not follow tasks';
    END IF;
    -- Every user's counts agree with the table.
    SELECT count(*) INTO bad
      FROM (SELECT user_id, count(*) AS total,
                   count(*) FILTER (WHERE completed) AS completed
              FROM tasks GROUP BY user_id) AS t
      FULL JOIN task_counts c USING (user_id)
     WHERE (coalesce(t.total, 0), coalesce(t.completed, 0))
           IS DISTINCT FROM (coalesce(c.total, 0), coalesce(c.completed, 0));
    IF bad > 0 THEN
        RAISE EXCEPTION 'task_counts disagrees with tasks for % user(s)', bad;
    END IF;
END
$$;

ROLLBACK;
