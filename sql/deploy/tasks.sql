-- Deploy mod_todo:tasks to pg
-- One table holds every user's tasks.  Everything is keyed by user_id
-- first, so a user's rows cluster in every index and the table can be
-- distributed by user_id (Citus) when one database is not enough.

BEGIN;

CREATE TABLE tasks (
    user_id      text        NOT NULL,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    title        text        NOT NULL,
    description  text,
    completed    boolean     NOT NULL DEFAULT false,
    completed_at timestamptz,
    priority     smallint    NOT NULL DEFAULT 0,
    due_at       timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      bigint      NOT NULL DEFAULT 1,
    CONSTRAINT tasks_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT tasks_user_id_check
        CHECK (octet_length(user_id) BETWEEN 1 AND 255),
    -- 1-200 characters (not bytes), and not only white space.
    CONSTRAINT tasks_title_check
        CHECK (char_length(title) BETWEEN 1 AND 200
               AND title !~ '^[[:space:]]*$'),
    CONSTRAINT tasks_description_check
        CHECK (description IS NULL OR char_length(description) <= 1000),
    CONSTRAINT tasks_priority_check CHECK (priority BETWEEN 0 AND 3),
    CONSTRAINT tasks_completed_at_check
        CHECK (completed = (completed_at IS NOT NULL)),
    CONSTRAINT tasks_version_check CHECK (version >= 1)
);

COMMENT ON TABLE tasks IS 'mod_todo: every user''s tasks; all access is scoped by user_id';

-- The list queries (SPEC section 5): one index per sort key, each led by
-- user_id and ended by id (the tie-breaker), so a page is an index range
-- scan of one user's rows in the requested order (backwards for DESC).
CREATE INDEX tasks_user_created_idx  ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_updated_idx  ON tasks (user_id, updated_at, id);
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_title_idx    ON tasks (user_id, (lower(title) COLLATE "C"), id);
-- Tasks without a due date come last in both directions.
CREATE INDEX tasks_user_due_asc_idx  ON tasks (user_id, due_at ASC NULLS LAST, id);
CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, due_at DESC NULLS LAST, id DESC);
-- Only for "TodoForeignTaskStatus 403": is an id someone else's task?
-- Not unique and not led by user_id, so distribution is unaffected.
CREATE INDEX tasks_id_idx ON tasks (id);

COMMIT;
