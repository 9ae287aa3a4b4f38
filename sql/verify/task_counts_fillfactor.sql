-- Verify mod_todo:task_counts_fillfactor on pg: task_counts keeps its
-- pages 10 % full.

SELECT 1 / count(*)
  FROM pg_class
 WHERE oid = 'task_counts'::regclass
   AND reloptions @> ARRAY['fillfactor=10'];
