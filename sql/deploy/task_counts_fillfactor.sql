-- Deploy mod_todo:task_counts_fillfactor to pg
-- requires: task_counts
--
-- Every plain or status list reads the user's row of task_counts by its
-- key.  While the table fits in two or three pages (up to a few hundred
-- users), PostgreSQL's cost model prefers reading the whole table to
-- using the primary key, and compares the id of every user on every
-- list: with 200 users, the database served 12 % more lists per second
-- (pgbench, the module's list statement, 32 clients) once the lookup used
-- the index.  With its pages filled to 10 %, the table spans enough pages
-- for the index to be chosen from about 100 users on (below that, the
-- whole table is a handful of rows).  The free room also keeps the
-- updated versions of a row in its own page (the triggers update a
-- user's row on every create, delete and completion).
--
-- VACUUM FULL rewrites the table so that the setting applies to the rows
-- already there.  It locks task_counts, and so writes to tasks and plain
-- lists, for as long as it takes to copy one small row per user.

ALTER TABLE task_counts SET (fillfactor = 10);
VACUUM FULL task_counts;
