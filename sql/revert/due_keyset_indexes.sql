-- Revert mod_todo:due_keyset_indexes from pg

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_due_asc_idx
    ON tasks (user_id, due_at ASC NULLS LAST, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_due_desc_idx
    ON tasks (user_id, due_at DESC NULLS LAST, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_due_key_asc_idx;
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_due_key_desc_idx;
