-- Deploy mod_todo:due_keyset_indexes to pg
-- requires: changes_index
--
-- A list cursor (docs/api.md §5) resumes after the last task of a page: a
-- row comparison "(sort key, id) > (the cursor's)" that the sort's index
-- turns into a range scan, so a page costs the same at any depth.  Tasks
-- without due_at sort last in both directions, and NULL has no place in a
-- row comparison; so the due_at sorts order by a key without NULLs:
-- coalesce(due_at, 'infinity') ascending, coalesce(due_at, '-infinity')
-- descending (read backwards).  The API never stores an infinite due_at.
-- These indexes replace the two on due_at itself.
--
-- CONCURRENTLY: writes go on meanwhile (no transaction here).  Until the
-- module is upgraded, its due_at lists sort in memory instead of reading
-- an index: still right, only slower.

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_due_key_asc_idx
    ON tasks (user_id, (coalesce(due_at, 'infinity'::timestamptz)), id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_due_key_desc_idx
    ON tasks (user_id, (coalesce(due_at, '-infinity'::timestamptz)), id);
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_due_asc_idx;
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_due_desc_idx;
