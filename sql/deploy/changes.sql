-- Deploy mod_todo:changes to pg
-- requires: idempotency_keys
--
-- The changes feed (docs/api.md §10) asks "which of this user's tasks did
-- transactions write that the client's last sync could not see?".  Every
-- row of tasks records the transaction that wrote it last: change_xid,
-- its 64-bit transaction id (pg_current_xact_id(), as bigint).  A sync
-- token carries the snapshot its sync read from (pg_current_snapshot():
-- xmin, xmax and the transactions still running); the next sync returns
-- the rows whose change_xid that snapshot did not see as committed.  This
-- rests on PostgreSQL's own visibility rules, not on clocks, so a write
-- whose transaction began before a sync and committed after it is in the
-- next sync (docs/api.md §10 has the whole argument).
--
-- A deleted task leaves a tombstone (task_tombstones) with the deleting
-- transaction's id, kept for TodoTombstoneRetention and then pruned by
-- the user's own later deletes, a few at a time.  tombstone_horizons
-- remembers, per user, the newest transaction whose tombstone was pruned:
-- a token older than that may miss a deletion and gets 410 Gone.
--
-- Triggers, not the module's statements, keep change_xid and the
-- tombstones, so they are right whoever writes to tasks (the module,
-- psql, a migration).
--
-- While Apache serves: the new column has a constant default, so adding
-- it rewrites nothing (PostgreSQL stores the default once; existing rows
-- read 0, "before the feed", which every snapshot sees).  The ALTER TABLE
-- takes a brief exclusive lock on tasks; lock_timeout keeps it from
-- queueing behind a long transaction (and every write behind it): should
-- it expire, deploy again.  The feed's index on change_xid comes in the
-- next change, built CONCURRENTLY.

BEGIN;

SET LOCAL lock_timeout = '10s';

ALTER TABLE tasks ADD COLUMN change_xid bigint NOT NULL DEFAULT 0;
-- New rows: the inserting transaction.
ALTER TABLE tasks ALTER COLUMN change_xid
    SET DEFAULT CAST(CAST(pg_current_xact_id() AS text) AS bigint);

-- Updated rows: the updating transaction.
CREATE FUNCTION tasks_change_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := CAST(CAST(pg_current_xact_id() AS text) AS bigint);
    RETURN NEW;
END
$$;

CREATE TRIGGER tasks_change_xid BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_change_xid();

CREATE TABLE task_tombstones (
    user_id    text        NOT NULL,
    id         uuid        NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT now(),
    change_xid bigint      NOT NULL
        DEFAULT CAST(CAST(pg_current_xact_id() AS text) AS bigint),
    CONSTRAINT task_tombstones_pkey PRIMARY KEY (user_id, id)
);

COMMENT ON TABLE task_tombstones IS 'mod_todo: deleted tasks, for the changes feed; pruned after TodoTombstoneRetention';

-- The feed reads a user's tombstones in change_xid order; pruning takes
-- the oldest.
CREATE INDEX task_tombstones_user_change_idx
    ON task_tombstones (user_id, change_xid, id);
CREATE INDEX task_tombstones_user_deleted_idx
    ON task_tombstones (user_id, deleted_at);

CREATE TABLE tombstone_horizons (
    user_id    text   NOT NULL PRIMARY KEY,
    -- The largest change_xid of this user's pruned tombstones.
    pruned_xid bigint NOT NULL
);

COMMENT ON TABLE tombstone_horizons IS 'mod_todo: per user, the newest pruned tombstone (sync tokens older than it are gone)';

-- A task that leaves a user (deleted, or moved by SQL to another user or
-- id) leaves a tombstone.  A tombstone of an id that is deleted again is
-- renewed.  SECURITY DEFINER: the deleting role needs no grant on
-- task_tombstones for it, so the module of the previous version keeps
-- deleting while this is deployed, before the new grants are given.
CREATE FUNCTION task_tombstones_row() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO task_tombstones AS b (user_id, id)
    VALUES (OLD.user_id, OLD.id)
    ON CONFLICT (user_id, id) DO UPDATE
       SET deleted_at = excluded.deleted_at, change_xid = excluded.change_xid;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_tombstones_delete AFTER DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_tombstones_row();
CREATE TRIGGER task_tombstones_move AFTER UPDATE OF user_id, id ON tasks
    FOR EACH ROW
    WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION task_tombstones_row();

COMMIT;
