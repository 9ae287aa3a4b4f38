-- Revert mod_todo:task_counts from pg

BEGIN;

DROP TRIGGER task_counts_truncate ON tasks;
DROP TRIGGER task_counts_update ON tasks;
DROP TRIGGER task_counts_insert_delete ON tasks;
DROP FUNCTION task_counts_truncate();
DROP FUNCTION task_counts_row();
DROP TABLE task_counts;

COMMIT;
