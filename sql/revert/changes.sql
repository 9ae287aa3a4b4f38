-- Revert mod_todo:changes from pg

BEGIN;

DROP TRIGGER task_tombstones_move ON tasks;
DROP TRIGGER task_tombstones_delete ON tasks;
DROP FUNCTION task_tombstones_row();
DROP TABLE tombstone_horizons;
DROP TABLE task_tombstones;
DROP TRIGGER tasks_change_xid ON tasks;
DROP FUNCTION tasks_change_xid();
ALTER TABLE tasks DROP COLUMN change_xid;

COMMIT;
