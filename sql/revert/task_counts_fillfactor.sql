-- Revert mod_todo:task_counts_fillfactor from pg

ALTER TABLE task_counts RESET (fillfactor);
VACUUM FULL task_counts;
