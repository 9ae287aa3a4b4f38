-- Verify mod_todo:due_keyset_indexes on pg: both indexes exist and are
-- valid.

SELECT 1 / (count(*) / 2)
  FROM pg_index
 WHERE indexrelid IN ('tasks_user_due_key_asc_idx'::regclass,
                      'tasks_user_due_key_desc_idx'::regclass)
   AND indisvalid;
