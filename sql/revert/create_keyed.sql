-- Revert mod_todo:create_keyed from pg

BEGIN;

DROP FUNCTION tasks_create_keyed(text, text, text, boolean, smallint,
                                 timestamptz, text, text, text, text, bytea,
                                 text, interval, integer);
DROP FUNCTION task_json_time(timestamptz);
DROP TYPE task_json;

COMMIT;
