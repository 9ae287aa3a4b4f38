-- Deploy mod_todo:changes_index to pg
-- requires: changes
--
-- The changes feed reads a user's tasks in (change_xid, id) order from a
-- token's position: an index range scan.  Built CONCURRENTLY, so writes go
-- on while it is built on a populated table (hence no transaction here;
-- should the build fail, the index is left invalid: drop it and deploy
-- again).

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_change_idx
    ON tasks (user_id, change_xid, id);
