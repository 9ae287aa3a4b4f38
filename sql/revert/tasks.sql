-- Revert mod_todo:tasks from pg

BEGIN;

DROP TABLE tasks;

COMMIT;
