-- Verify mod_todo:changes_index on pg: the index exists and is valid (a
-- failed concurrent build leaves an invalid one).

SELECT 1 / count(*)
  FROM pg_index
 WHERE indexrelid = 'tasks_user_change_idx'::regclass AND indisvalid;
