-- Revert mod_todo:changes_index from pg

DROP INDEX CONCURRENTLY IF EXISTS tasks_user_change_idx;
