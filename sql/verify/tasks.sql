-- Verify mod_todo:tasks on pg: the columns exist and the constraints bite.

BEGIN;

SELECT user_id, id, title, description, completed, completed_at, priority,
       due_at, created_at, updated_at, version
  FROM tasks
 WHERE false;

-- Each of these must fail; a DO block turns "it did not" into an error.
DO $$
DECLARE
    bad text[] := ARRAY[
        $q$INSERT INTO tasks (user_id, title) VALUES ('v', '')$q$,
        $q$INSERT INTO tasks (user_id, title) VALUES ('v', '   ')$q$,
        $q$INSERT INTO tasks (user_id, title) VALUES ('v', repeat('x', 201))$q$,
        $q$INSERT INTO tasks (user_id, title, description) VALUES ('v', 't', repeat('x', 1001))$q$,
        $q$INSERT INTO tasks (user_id, title, priority) VALUES ('v', 't', 4)$q$,
        $q$INSERT INTO tasks (user_id, title, completed) VALUES ('v', 't', true)$q$,
        $q$INSERT INTO tasks (user_id, title, version) VALUES ('v', 't', 0)$q$,
        $q$INSERT INTO tasks (user_id, title) VALUES ('', 't')$q$
    ];
    stmt text;
BEGIN
    FOREACH stmt IN ARRAY bad LOOP
        BEGIN
            EXECUTE stmt;
            RAISE EXCEPTION 'constraint missing: %', stmt;
        EXCEPTION WHEN check_violation THEN
            NULL;
        END;
    END LOOP;
END
$$;

ROLLBACK;
