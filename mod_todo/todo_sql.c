#include <string.h>
#include <apr_strings.h>
#include "todo_sql.h"
#include "todo_text.h"

/* The SQL is laid out by hand, as SQL: clang-format keeps out of it. */
/* clang-format off */
/* A timestamp as PostgreSQL's text of the UTC time, whatever the
 * session's TimeZone: "2026-11-22 10:31:59.979377" under DateStyle ISO
 * (TODO_SQL_SESSION_SETTINGS), which the glue turns into RFC 3339 with
 * todo_time_from_pg().  A plain cast, not to_char(): formatting
 * with to_char was ~22 % of the database's CPU for a list of 20 tasks,
 * at ~400 ns a value against ~115 ns for the cast.  No ":name" may
 * appear in the SQL: pgbench would take it for a variable (bench/run.sh
 * replays these statements). */
#define TS(col) "CAST(" col " AT TIME ZONE 'UTC' AS text)"

/* The task columns, in todo_sql.h's TODO_COL_* order. */
#define TASK_COLS                                                       \
    "t.id::text AS id, t.user_id, t.title, t.description, t.completed, "\
    TS("t.completed_at") " AS completed_at, t.priority, "               \
    TS("t.due_at") " AS due_at, " TS("t.created_at") " AS created_at, " \
    TS("t.updated_at") " AS updated_at, t.version"

/* An optional argument: the module binds "" for "absent", which becomes
 * NULL here (and disables that filter or keeps that column).  Binding ""
 * rather than SQL NULL lets pgbench, which cannot bind NULL, replay the
 * module's statements with the very same values (bench/run.sh). */
#define OPT(type) "CAST(NULLIF(CAST(%s AS text), '') AS " type ")"

#define SQL_GET                                                         \
    "SELECT " TASK_COLS " FROM tasks t"                                 \
    " WHERE t.user_id = %s AND t.id = CAST(%s AS uuid)"

#define SQL_CREATE                                                      \
    "INSERT INTO tasks AS t (user_id, title, description, completed,"   \
    " completed_at, priority, due_at)"                                  \
    " SELECT p.uid, p.title, p.descr, p.done,"                          \
    " CASE WHEN p.done THEN now() END, p.prio, p.due"                   \
    " FROM (SELECT CAST(%s AS text) AS uid, CAST(%s AS text) AS title," \
    " CAST(%s AS text) AS descr, CAST(%s AS boolean) AS done,"          \
    " CAST(%s AS smallint) AS prio, " OPT("timestamptz") " AS due) p"   \
    " RETURNING " TASK_COLS

/* The new value of "completed", used twice: once for the column and once
 * to decide completed_at.  Written against t so that, under concurrency,
 * PostgreSQL re-evaluates it on the latest row version (a toggle racing a
 * toggle flips twice instead of losing one). */
#define NEW_DONE "(CASE WHEN p.toggle THEN NOT t.completed" \
                 " ELSE COALESCE(p.done, t.completed) END)"

/* One statement for PUT, PATCH and PATCH .../complete: an empty (absent)
 * argument keeps the column, set_* flags distinguish "set to null" from
 * "keep".
 * The If-Match condition is part of the UPDATE's WHERE, so of two writers
 * holding the same ETag exactly one succeeds. "found" tells 404 from 412. */
#define SQL_UPDATE                                                      \
    "WITH p AS (SELECT CAST(%s AS text) AS uid, CAST(%s AS uuid) AS id,"\
    " " OPT("bigint[]") " AS vers, " OPT("text") " AS title,"           \
    " CAST(%s AS boolean) AS set_descr, CAST(%s AS text) AS descr,"     \
    " CAST(%s AS boolean) AS toggle, " OPT("boolean") " AS done,"       \
    " " OPT("smallint") " AS prio,"                                     \
    " CAST(%s AS boolean) AS set_due, " OPT("timestamptz") " AS due),"  \
    " cur AS (SELECT 1 FROM tasks t, p"                                 \
    " WHERE t.user_id = p.uid AND t.id = p.id),"                        \
    " u AS (UPDATE tasks t SET"                                         \
    " title = COALESCE(p.title, t.title),"                              \
    " description = CASE WHEN p.set_descr THEN p.descr"                 \
    " ELSE t.description END,"                                          \
    " completed = " NEW_DONE ","                                        \
    " completed_at = CASE WHEN " NEW_DONE                               \
    " THEN COALESCE(t.completed_at, now()) END,"                        \
    " priority = COALESCE(p.prio, t.priority),"                         \
    " due_at = CASE WHEN p.set_due THEN p.due ELSE t.due_at END,"       \
    " version = t.version + 1, updated_at = now()"                      \
    " FROM p WHERE t.user_id = p.uid AND t.id = p.id"                   \
    " AND (p.vers IS NULL OR t.version = ANY (p.vers))"                 \
    " RETURNING " TASK_COLS ")"                                         \
    " SELECT (SELECT count(*) FROM cur) AS found, u.*"                  \
    " FROM (SELECT 1) AS one LEFT JOIN u ON true"

/* Tombstones of deleted tasks (sql/deploy/changes.sql) are pruned by the
 * user's own deletes: one in TODO_SQL_PRUNE_EVERY removes up to
 * TODO_SQL_PRUNE_MAX of the user's tombstones older than
 * TodoTombstoneRetention (skipping those another delete is pruning), more
 * than the deletes add; the others do not even look (LIMIT 0: no scan).  The newest
 * pruned one is remembered per user (tombstone_horizons): a sync token
 * from before it may miss a deletion and is refused (410).  `cond` gates
 * it (an Idempotency-Key replay writes nothing).  Rows are picked by
 * ctid in a CTE of their own, so that the bound holds (a subquery in the
 * DELETE's WHERE would run again for each row). */
#define TOMBSTONE_PRUNE(cond)                                           \
    " tx AS (SELECT ARRAY(SELECT x.ctid FROM task_tombstones x"         \
    " WHERE x.user_id = p.uid AND x.deleted_at <= now() - p.tkeep"      \
    " ORDER BY x.deleted_at LIMIT p.tprune FOR UPDATE SKIP LOCKED)"     \
    " AS tids"                                                          \
    " FROM p WHERE " cond "),"                                          \
    " tp AS (DELETE FROM task_tombstones x"                             \
    " WHERE (SELECT cardinality(tids) FROM tx) > 0"                     \
    " AND x.ctid = ANY (CAST((SELECT tids FROM tx) AS tid[]))"          \
    " AND x.user_id = (SELECT uid FROM p) RETURNING x.change_xid),"     \
    " th AS (INSERT INTO tombstone_horizons AS h (user_id, pruned_xid)" \
    " SELECT p.uid, m.x FROM p, (SELECT max(change_xid) AS x FROM tp) m"\
    " WHERE m.x IS NOT NULL ON CONFLICT (user_id) DO UPDATE"            \
    " SET pruned_xid = GREATEST(h.pruned_xid, excluded.pruned_xid))"

#define SQL_DELETE                                                      \
    "WITH p AS (SELECT CAST(%s AS text) AS uid, CAST(%s AS uuid) AS id,"\
    " " OPT("bigint[]") " AS vers,"                                     \
    " make_interval(secs => CAST(%s AS integer)) AS tkeep,"             \
    " CAST(%s AS integer) AS tprune),"                                  \
    " cur AS (SELECT 1 FROM tasks t, p"                                 \
    " WHERE t.user_id = p.uid AND t.id = p.id),"                        \
    " d AS (DELETE FROM tasks t USING p"                                \
    " WHERE t.user_id = p.uid AND t.id = p.id"                          \
    " AND (p.vers IS NULL OR t.version = ANY (p.vers)) RETURNING 1),"   \
    TOMBSTONE_PRUNE("true")                                             \
    " SELECT (SELECT count(*) FROM cur), (SELECT count(*) FROM d)"

/* Only asked after a miss, and only with TodoForeignTaskStatus 403: is the
 * id some other user's task?  (Served by the tasks_id index.) */
#define SQL_FOREIGN                                                     \
    "SELECT 1 FROM tasks t WHERE t.id = CAST(%s AS uuid)"               \
    " AND t.user_id <> %s LIMIT 1"

/* The page and the total come from one statement, so from one snapshot,
 * and the LEFT JOIN still yields the total (with NULL task columns) when
 * the page is empty.  Without a filter, or with only a status, the total
 * is read from the user's row in task_counts, which triggers keep in step
 * with tasks (sql/deploy/task_counts.sql): counting the user's index
 * entries instead was half of the database's time for a plain list of a
 * user with 500 tasks.  Other filters count the filtered set.
 *
 * Three shapes, because PostgreSQL plans a prepared statement once
 * ("generic plan") only when that plan is not costlier than planning with
 * the actual values: with optional filters written as "$n IS NULL OR ...",
 * it is, and PostgreSQL would plan the statement again on every execution
 * (which was most of the database's time in the benchmark).  So the common
 * lists -- no filter, or only a status -- have statements of their own
 * with plain conditions; any other filter combination takes the general
 * statement, where an empty argument disables a filter.  (The paging
 * parameters alone still tip PostgreSQL towards planning every time, hence
 * TODO_SQL_SESSION_SETUP.)  strpos() avoids LIKE's wildcards in q.
 *
 * Keyset cursors (docs/api.md §5, todo_cursor.h): every list resumes
 * after the (sort key, id) of a cursor -- a row comparison that the sort's
 * index (sql/deploy/tasks.sql, due_keyset_indexes.sql) turns into the
 * start of its range scan, so a page costs the same at any depth.
 * Without a cursor the comparison is with a bound before every task (the
 * sort's FROM_START), and the scan starts at the beginning: one statement
 * serves both.  Each row also returns its sort key as text (k), from
 * which the glue makes the next page's cursor. */
#define AFTER(key, op, type, first_key, first_id)                       \
    "ROW(" key ", id) " op " ROW(COALESCE(" OPT(type) ", " first_key "),"\
    " COALESCE(" OPT("uuid") ", " first_id "))"
#define SQL_PAGE(where, order, after)                                   \
    " LEFT JOIN LATERAL (SELECT * FROM tasks WHERE " where              \
    " AND " after " ORDER BY " order                                    \
    " LIMIT CAST(%s AS integer) OFFSET CAST(%s AS bigint)) AS t ON true"
#define SQL_LIST_PLAIN(order, after, key_t)                             \
    "SELECT c.total, " TASK_COLS ", CAST(" key_t " AS text) AS k"       \
    " FROM (SELECT coalesce((SELECT n.total"                            \
    " FROM task_counts n WHERE n.user_id = CAST(%s AS text)), 0) AS total)"\
    " AS c"                                                             \
    SQL_PAGE("user_id = CAST(%s AS text)", order, after)
#define SQL_LIST_STATUS(order, after, key_t)                            \
    "SELECT c.total, " TASK_COLS ", CAST(" key_t " AS text) AS k"       \
    " FROM (SELECT coalesce((SELECT"                                    \
    " CASE WHEN x.done THEN n.completed ELSE n.total - n.completed END" \
    " FROM task_counts n WHERE n.user_id = x.uid), 0) AS total"         \
    " FROM (SELECT CAST(%s AS text) AS uid, CAST(%s AS boolean) AS done)"\
    " AS x) AS c"                                                       \
    SQL_PAGE("user_id = CAST(%s AS text) AND completed = CAST(%s AS boolean)",\
             order, after)
#define SQL_LIST(order, after, key_t)                                   \
    "WITH p AS NOT MATERIALIZED (SELECT CAST(%s AS text) AS uid,"       \
    " " OPT("boolean") " AS done, lower(" OPT("text") ") AS q,"         \
    " " OPT("timestamptz") " AS due_before,"                            \
    " " OPT("timestamptz") " AS due_after,"                             \
    " " OPT("timestamptz") " AS upd_since),"                            \
    " m AS NOT MATERIALIZED (SELECT t.* FROM tasks t, p"                \
    " WHERE t.user_id = p.uid"                                          \
    " AND (p.done IS NULL OR t.completed = p.done)"                     \
    " AND (p.q IS NULL OR strpos(lower(t.title), p.q) > 0"              \
    " OR strpos(lower(t.description), p.q) > 0)"                        \
    " AND (p.due_before IS NULL OR t.due_at < p.due_before)"            \
    " AND (p.due_after IS NULL OR t.due_at > p.due_after)"              \
    " AND (p.upd_since IS NULL OR t.updated_at >= p.upd_since))"        \
    " SELECT c.total, " TASK_COLS ", CAST(" key_t " AS text) AS k"      \
    " FROM (SELECT count(*) AS total FROM m) AS c"                      \
    " LEFT JOIN LATERAL (SELECT * FROM m WHERE " after                  \
    " ORDER BY " order                                                  \
    " LIMIT CAST(%s AS integer) OFFSET CAST(%s AS bigint)) AS t ON true"

/* Titles order by lower(title) in byte (code point) order, whatever the
 * database's collation, so the order is the same on every installation
 * and matches the tasks_user_title index. */
#define TITLE_KEY "lower(title) COLLATE \"C\""

/* Tasks without due_at come last in both directions: the due_at sorts
 * order by a key without NULLs (the indexes of due_keyset_indexes.sql). */
#define INF "CAST('infinity' AS timestamptz)"
#define NINF "CAST('-infinity' AS timestamptz)"
#define DUE_ASC(t) "COALESCE(" t "due_at, " INF ")"
#define DUE_DESC(t) "COALESCE(" t "due_at, " NINF ")"

/* Bounds before every task of a sort, for a list without a cursor: ids
 * at the ends of the uuid range, keys no task reaches (created_at and
 * updated_at are finite, priorities 0-3, titles are not empty and have at
 * most 200 characters, each at most U+10FFFF; the database is UTF-8). */
#define UUID_MIN "CAST('00000000-0000-0000-0000-000000000000' AS uuid)"
#define UUID_MAX "CAST('ffffffff-ffff-ffff-ffff-ffffffffffff' AS uuid)"
#define TITLE_MAX "repeat(chr(1114111), 201)"

/* One sort order in the three list shapes: its ORDER BY, its key (the
 * index's) and how a page resumes after a cursor. */
#define LISTS(sort, name, order, key, key_t, op, type, start_key, start_id)\
    [TODO_STMT_LIST_FIRST + sort] =                                     \
        {"todo_list_" name,                                             \
         SQL_LIST(order, AFTER(key, op, type, start_key, start_id),     \
                  key_t), 10},                                          \
    [TODO_STMT_LISTP_FIRST + sort] =                                    \
        {"todo_listp_" name,                                            \
         SQL_LIST_PLAIN(order, AFTER(key, op, type, start_key, start_id),\
                        key_t), 6},                                     \
    [TODO_STMT_LISTS_FIRST + sort] =                                    \
        {"todo_lists_" name,                                            \
         SQL_LIST_STATUS(order, AFTER(key, op, type, start_key, start_id),\
                         key_t), 8}
#define LISTS_ASC(sort, name, order, key, key_t, type, start_key)       \
    LISTS(sort, name, order, key, key_t, ">", type, start_key, UUID_MIN)
#define LISTS_DESC(sort, name, order, key, key_t, type, start_key)      \
    LISTS(sort, name, order, key, key_t, "<", type, start_key, UUID_MAX)

/* ------------------------------------------------- Idempotency-Key */

/* A task as the JSON of todo_json_task(), byte for byte (PostgreSQL's
 * row_to_json writes compact JSON and escapes strings as todo_buf does),
 * for the answers an Idempotency-Key stores in the statement that writes
 * the task (docs/api.md §9).  The type task_json names the fields in the
 * API's order and task_json_time() writes a timestamp as
 * todo_time_from_pg() does (sql/deploy/create_keyed.sql): one definition,
 * shared with tasks_create_keyed().  A row constructor, not a sub-select:
 * an expression, with nothing for the executor to set up. */
#define TASK_JSON(t)                                                    \
    "CAST(row_to_json(ROW(" t ".id, " t ".user_id, " t ".title, "        \
    t ".description, " t ".completed, task_json_time(" t ".completed_at), "\
    t ".priority, task_json_time(" t ".due_at), "                        \
    "task_json_time(" t ".created_at), task_json_time(" t ".updated_at), "\
    t ".version)::task_json) AS text)"

/* The parameters every keyed statement ends its CTE p with. */
#define IDEM_PARAMS                                                     \
    " CAST(%s AS text) AS key, decode(CAST(%s AS text), 'hex') AS fp,"  \
    " CAST(%s AS text) AS rid,"                                         \
    " make_interval(secs => CAST(%s AS integer)) AS keep,"              \
    " CAST(%s AS integer) AS prune"

/* Whether this request may run (docs/api.md §9), before it writes:
 * - lk: no other request with the key is running.  A transaction-scoped
 *   advisory lock on (user, key), tried without waiting and held until
 *   the write commits: the other request answers 409 at once.
 * - pv: the key's stored answer, if any and not expired: a replay (the
 *   same fingerprint) or a 422.
 * A request whose snapshot predates the commit of another with the same
 * key sees neither; it then writes, and storing its answer violates the
 * key's primary key: the whole statement, its write included, rolls back
 * (the glue then reads the stored answer, todo_sql_args_idem_get).  So
 * exactly one request with a key ever writes. */
#define IDEM_GATE                                                       \
    " lk AS (SELECT pg_try_advisory_xact_lock("                         \
    "hashtextextended(p.uid || chr(10) || p.key, 0)) AS ok FROM p),"    \
    " pv AS (SELECT k.* FROM idempotency_keys k, p"                     \
    " WHERE k.user_id = p.uid AND k.key = p.key"                        \
    " AND k.created_at > now() - p.keep),"                              \
    " go AS (SELECT lk.ok AND NOT EXISTS (SELECT 1 FROM pv) AS go FROM lk),"
#define IDEM_GO "(SELECT go FROM go)"

/* Store the answer of CTE a (status, etag, location, body) with the key,
 * in the same statement as the write.  One keyed write in
 * TODO_SQL_PRUNE_EVERY first deletes up to TODO_SQL_PRUNE_MAX of the
 * user's expired answers (the user's keyed writes prune as they go: no
 * job to schedule); the others do not look (LIMIT 0).  (An expired answer
 * of this very key makes the INSERT fail, as a race would: the glue
 * deletes it and runs the statement again, todo_sql_args_idem_expire.) */
#define IDEM_STORE                                                      \
    " px AS (SELECT ARRAY(SELECT k.ctid FROM idempotency_keys k"        \
    " WHERE k.user_id = p.uid AND k.created_at <= now() - p.keep"       \
    " ORDER BY k.created_at LIMIT p.prune FOR UPDATE SKIP LOCKED)"      \
    " AS tids FROM p WHERE " IDEM_GO "),"                               \
    " pr AS (DELETE FROM idempotency_keys k"                            \
    " WHERE (SELECT cardinality(tids) FROM px) > 0"                     \
    " AND k.ctid = ANY (CAST((SELECT tids FROM px) AS tid[]))"          \
    " AND k.user_id = (SELECT uid FROM p) RETURNING 1),"                \
    " s AS (INSERT INTO idempotency_keys (user_id, key, fingerprint,"   \
    " request_id, status, etag, location, body)"                        \
    " SELECT p.uid, p.key, p.fp, p.rid, a.status, a.etag, a.location,"  \
    " a.body FROM a, p WHERE (SELECT count(*) FROM pr) >= 0 RETURNING 1)"

/* What happened, and the answer to send: TODO_IDEM_COL_* order. */
#define IDEM_RESULT                                                     \
    " SELECT CASE WHEN pv.key IS NOT NULL THEN CASE WHEN"               \
    " pv.fingerprint = p.fp THEN 'replay' ELSE 'mismatch' END"          \
    " WHEN NOT lk.ok THEN 'busy' ELSE 'done' END AS outcome,"           \
    " COALESCE(a.status, pv.status) AS status,"                         \
    " COALESCE(a.etag, pv.etag) AS etag,"                               \
    " COALESCE(a.location, pv.location) AS location,"                   \
    " COALESCE(a.body, pv.body) AS body, pv.request_id"                 \
    " FROM p CROSS JOIN lk LEFT JOIN pv ON true LEFT JOIN a ON true"

/* POST with a key: one call of tasks_create_keyed()
 * (sql/deploy/create_keyed.sql), which does what IDEM_GATE, SQL_CREATE and
 * IDEM_STORE would, as two cached INSERTs.  Written as the other keyed
 * statements are, nine CTEs, the write clients retry most cost 1.9x a
 * plain create's database time (bench/RESULTS.md).  head and tail are the
 * envelope around "data" (todo_json), tail with the meta of this request;
 * loc the Location without the id.  The columns of IDEM_RESULT. */
#define SQL_CREATE_IDEM                                                 \
    "SELECT k.outcome, k.status, k.etag, k.location, k.body,"           \
    " k.request_id FROM tasks_create_keyed(CAST(%s AS text),"           \
    " CAST(%s AS text), CAST(%s AS text), CAST(%s AS boolean),"         \
    " CAST(%s AS smallint), " OPT("timestamptz") ","                     \
    " CAST(%s AS text), CAST(%s AS text), CAST(%s AS text),"            \
    " CAST(%s AS text), decode(CAST(%s AS text), 'hex'),"               \
    " CAST(%s AS text), make_interval(secs => CAST(%s AS integer)),"    \
    " CAST(%s AS integer)) AS k"

/* PUT, PATCH and PATCH .../complete with a key: SQL_UPDATE, gated, and
 * its answer stored -- the 200, or the 412, 403 or 404 the glue wrote
 * (b412, b403, b404; b403 empty unless TodoForeignTaskStatus 403). */
#define SQL_UPDATE_IDEM                                                 \
    "WITH p AS (SELECT CAST(%s AS text) AS uid, CAST(%s AS uuid) AS id,"\
    " " OPT("bigint[]") " AS vers, " OPT("text") " AS title,"           \
    " CAST(%s AS boolean) AS set_descr, CAST(%s AS text) AS descr,"     \
    " CAST(%s AS boolean) AS toggle, " OPT("boolean") " AS done,"       \
    " " OPT("smallint") " AS prio,"                                     \
    " CAST(%s AS boolean) AS set_due, " OPT("timestamptz") " AS due,"   \
    " CAST(%s AS text) AS head, CAST(%s AS text) AS tail,"              \
    " CAST(%s AS text) AS b404, CAST(%s AS text) AS b412,"              \
    " " OPT("text") " AS b403," IDEM_PARAMS "),"                        \
    IDEM_GATE                                                           \
    " cur AS (SELECT 1 FROM tasks t, p"                                 \
    " WHERE t.user_id = p.uid AND t.id = p.id),"                        \
    " u AS (UPDATE tasks t SET"                                         \
    " title = COALESCE(p.title, t.title),"                              \
    " description = CASE WHEN p.set_descr THEN p.descr"                 \
    " ELSE t.description END,"                                          \
    " completed = " NEW_DONE ","                                        \
    " completed_at = CASE WHEN " NEW_DONE                               \
    " THEN COALESCE(t.completed_at, now()) END,"                        \
    " priority = COALESCE(p.prio, t.priority),"                         \
    " due_at = CASE WHEN p.set_due THEN p.due ELSE t.due_at END,"       \
    " version = t.version + 1, updated_at = now()"                      \
    " FROM p WHERE t.user_id = p.uid AND t.id = p.id"                   \
    " AND (p.vers IS NULL OR t.version = ANY (p.vers))"                 \
    " AND " IDEM_GO " RETURNING t.*),"                                  \
    " r AS (SELECT u.*, CASE WHEN u.id IS NOT NULL THEN 200"            \
    " WHEN p.vers IS NOT NULL AND EXISTS (SELECT 1 FROM cur) THEN 412"  \
    " WHEN p.b403 IS NOT NULL AND EXISTS (SELECT 1 FROM tasks f"        \
    " WHERE f.id = p.id AND f.user_id <> p.uid) THEN 403 ELSE 404 END"  \
    " AS st FROM p LEFT JOIN u ON true WHERE " IDEM_GO "),"             \
    " a AS (SELECT r.st AS status, CASE WHEN r.st = 200"                \
    " THEN '\"' || r.version || '\"' END AS etag,"                      \
    " CAST(NULL AS text) AS location, CASE r.st WHEN 200 THEN"          \
    " p.head || " TASK_JSON("r") " || p.tail WHEN 412 THEN p.b412"      \
    " WHEN 403 THEN p.b403 ELSE p.b404 END AS body FROM r, p),"         \
    IDEM_STORE                                                          \
    IDEM_RESULT

/* DELETE with a key: SQL_DELETE, gated, and its 204 (no body), 412, 403
 * or 404 stored. */
#define SQL_DELETE_IDEM                                                 \
    "WITH p AS (SELECT CAST(%s AS text) AS uid, CAST(%s AS uuid) AS id,"\
    " " OPT("bigint[]") " AS vers,"                                     \
    " make_interval(secs => CAST(%s AS integer)) AS tkeep,"             \
    " CAST(%s AS integer) AS tprune,"                                   \
    " CAST(%s AS text) AS b404, CAST(%s AS text) AS b412,"              \
    " " OPT("text") " AS b403," IDEM_PARAMS "),"                        \
    IDEM_GATE                                                           \
    " cur AS (SELECT 1 FROM tasks t, p"                                 \
    " WHERE t.user_id = p.uid AND t.id = p.id),"                        \
    " d AS (DELETE FROM tasks t USING p"                                \
    " WHERE t.user_id = p.uid AND t.id = p.id"                          \
    " AND (p.vers IS NULL OR t.version = ANY (p.vers))"                 \
    " AND " IDEM_GO " RETURNING 1),"                                    \
    TOMBSTONE_PRUNE(IDEM_GO) ","                                        \
    " r AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM d) THEN 204"         \
    " WHEN p.vers IS NOT NULL AND EXISTS (SELECT 1 FROM cur) THEN 412"  \
    " WHEN p.b403 IS NOT NULL AND EXISTS (SELECT 1 FROM tasks f"        \
    " WHERE f.id = p.id AND f.user_id <> p.uid) THEN 403 ELSE 404 END"  \
    " AS st FROM p WHERE " IDEM_GO "),"                                 \
    " a AS (SELECT r.st AS status, CAST(NULL AS text) AS etag,"         \
    " CAST(NULL AS text) AS location, CASE r.st WHEN 204 THEN NULL"     \
    " WHEN 412 THEN p.b412 WHEN 403 THEN p.b403 ELSE p.b404 END AS body"\
    " FROM r, p),"                                                      \
    IDEM_STORE                                                          \
    IDEM_RESULT

/* An answer the glue made before any SQL (a 400 or 422 of the body's
 * validation), stored with its key like the others. */
#define SQL_IDEM_STORE                                                  \
    "WITH p AS (SELECT CAST(%s AS text) AS uid,"                        \
    " CAST(%s AS integer) AS status, CAST(%s AS text) AS body,"         \
    IDEM_PARAMS "),"                                                    \
    IDEM_GATE                                                           \
    " a AS (SELECT p.status, CAST(NULL AS text) AS etag,"               \
    " CAST(NULL AS text) AS location, p.body FROM p WHERE " IDEM_GO "),"\
    IDEM_STORE                                                          \
    IDEM_RESULT

/* The stored answer of a key, read after a keyed statement lost the race
 * to store its own (above): the same columns as IDEM_RESULT. */
#define SQL_IDEM_GET                                                    \
    "SELECT CASE WHEN k.fingerprint = decode(CAST(%s AS text), 'hex')"  \
    " THEN 'replay' ELSE 'mismatch' END, k.status, k.etag, k.location," \
    " k.body, k.request_id FROM idempotency_keys k"                     \
    " WHERE k.user_id = %s AND k.key = %s"                              \
    " AND k.created_at > now() - make_interval(secs => CAST(%s AS integer))"

/* The expired answer of a key, which keeps a new request with that key
 * from storing its own (see IDEM_STORE). */
#define SQL_IDEM_EXPIRE                                                 \
    "DELETE FROM idempotency_keys k WHERE k.user_id = %s AND k.key = %s"\
    " AND k.created_at <= now() - make_interval(secs => CAST(%s AS integer))"

/* ---------------------------------------------------- the changes feed */

/* A transaction id column (bigint) as pg_visible_in_snapshot wants it. */
#define XID8(col) "CAST(CAST(" col " AS text) AS xid8)"

/* One page of a sync (docs/api.md §10, todo_changes.h): the user's tasks
 * and (after a since) tombstones whose change_xid `since` did not see
 * committed and `upto` did, after (pos_xid, pos_id) in (change_xid, id)
 * order.  upto is the first page's own snapshot, pg_current_snapshot()
 * (the statement's), when none is given.  Each kind is an index range
 * scan from the position, below upto's xmax; the two merge in order.  A
 * tombstone whose id is a task again (SQL can do that) is left out: the
 * task is the latest state.  The first row also says which snapshot was
 * upto, and whether one of the user's pruned tombstones could be newer
 * than since (gone: 410).  p is inlined (NOT MATERIALIZED) so that the
 * index conditions see the parameters themselves, as in SQL_LIST. */
#define SQL_CHANGES                                                     \
    "WITH p AS NOT MATERIALIZED (SELECT CAST(%s AS text) AS uid,"       \
    " CAST(" OPT("text") " AS pg_snapshot) AS since,"                   \
    " COALESCE(CAST(" OPT("text") " AS pg_snapshot),"                   \
    " pg_current_snapshot()) AS upto,"                                  \
    " CAST(%s AS bigint) AS pos_xid, CAST(%s AS uuid) AS pos_id),"      \
    " c AS (SELECT * FROM ((SELECT 't' AS kind, t.change_xid,"          \
    " t.id AS rid, " TASK_COLS ", CAST(NULL AS text) AS deleted_at"     \
    " FROM p, tasks t"                                                  \
    " WHERE t.user_id = p.uid"                                          \
    " AND ROW(t.change_xid, t.id) > ROW(p.pos_xid, p.pos_id)"           \
    " AND t.change_xid < CAST(CAST(pg_snapshot_xmax(p.upto) AS text)"   \
    " AS bigint)"                                                       \
    " AND pg_visible_in_snapshot(" XID8("t.change_xid") ", p.upto)"     \
    " AND (p.since IS NULL"                                             \
    " OR NOT pg_visible_in_snapshot(" XID8("t.change_xid") ", p.since))"\
    " ORDER BY t.change_xid, t.id LIMIT CAST(%s AS integer))"           \
    " UNION ALL (SELECT 'd', x.change_xid, x.id, CAST(x.id AS text),"   \
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "     \
    TS("x.deleted_at") " FROM p, task_tombstones x"                     \
    " WHERE p.since IS NOT NULL AND x.user_id = p.uid"                  \
    " AND ROW(x.change_xid, x.id) > ROW(p.pos_xid, p.pos_id)"           \
    " AND x.change_xid < CAST(CAST(pg_snapshot_xmax(p.upto) AS text)"   \
    " AS bigint)"                                                       \
    " AND pg_visible_in_snapshot(" XID8("x.change_xid") ", p.upto)"     \
    " AND NOT pg_visible_in_snapshot(" XID8("x.change_xid") ", p.since)"\
    " AND NOT EXISTS (SELECT 1 FROM tasks t"                            \
    " WHERE t.user_id = x.user_id AND t.id = x.id)"                     \
    " ORDER BY x.change_xid, x.id LIMIT CAST(%s AS integer))) AS u"     \
    " ORDER BY change_xid, rid LIMIT CAST(%s AS integer))"              \
    " SELECT CAST(p.upto AS text) AS upto, p.since IS NOT NULL"         \
    " AND EXISTS (SELECT 1 FROM tombstone_horizons h"                   \
    " WHERE h.user_id = p.uid AND h.pruned_xid >="                      \
    " CAST(CAST(pg_snapshot_xmin(p.since) AS text) AS bigint)) AS gone,"\
    " c.kind, CAST(c.change_xid AS text), c.id, c.user_id, c.title,"    \
    " c.description, c.completed, c.completed_at, c.priority, c.due_at,"\
    " c.created_at, c.updated_at, c.version, c.deleted_at"              \
    " FROM p LEFT JOIN c ON true ORDER BY c.change_xid, c.rid"

/* The key of cursors and sync tokens (sql/deploy/token_key.sql), as hex:
 * read once per Apache child and database. */
#define SQL_TOKEN_KEY "SELECT encode(secret, 'hex') FROM token_key WHERE id = 1"

static const todo_stmt_t stmts[TODO_STMT_COUNT] = {
    [TODO_STMT_HEALTH]  = {"todo_health", "SELECT 1", 0},
    [TODO_STMT_GET]     = {"todo_get", SQL_GET, 2},
    [TODO_STMT_CREATE]  = {"todo_create", SQL_CREATE, 6},
    [TODO_STMT_UPDATE]  = {"todo_update", SQL_UPDATE, 11},
    [TODO_STMT_DELETE]  = {"todo_delete", SQL_DELETE, 5},
    [TODO_STMT_FOREIGN] = {"todo_foreign", SQL_FOREIGN, 2},
    [TODO_STMT_CREATE_IDEM] = {"todo_create_idem", SQL_CREATE_IDEM, 14},
    [TODO_STMT_UPDATE_IDEM] = {"todo_update_idem", SQL_UPDATE_IDEM, 21},
    [TODO_STMT_DELETE_IDEM] = {"todo_delete_idem", SQL_DELETE_IDEM, 13},
    [TODO_STMT_IDEM_STORE]  = {"todo_idem_store", SQL_IDEM_STORE, 8},
    [TODO_STMT_IDEM_GET]    = {"todo_idem_get", SQL_IDEM_GET, 4},
    [TODO_STMT_IDEM_EXPIRE] = {"todo_idem_expire", SQL_IDEM_EXPIRE, 3},
    [TODO_STMT_CHANGES]     = {"todo_changes", SQL_CHANGES, 8},
    [TODO_STMT_TOKEN_KEY]   = {"todo_token_key", SQL_TOKEN_KEY, 0},
    LISTS_DESC(TODO_SORT_CREATED_DESC, "created_desc",
               "created_at DESC, id DESC", "created_at",
               "t.created_at", "timestamptz", INF),
    LISTS_ASC(TODO_SORT_CREATED_ASC, "created_asc", "created_at, id",
              "created_at", "t.created_at", "timestamptz", NINF),
    LISTS_ASC(TODO_SORT_UPDATED_ASC, "updated_asc", "updated_at, id",
              "updated_at", "t.updated_at", "timestamptz", NINF),
    LISTS_DESC(TODO_SORT_UPDATED_DESC, "updated_desc",
               "updated_at DESC, id DESC", "updated_at",
               "t.updated_at", "timestamptz", INF),
    LISTS_ASC(TODO_SORT_DUE_ASC, "due_asc", DUE_ASC("") ", id",
              DUE_ASC(""), DUE_ASC("t."), "timestamptz", NINF),
    LISTS_DESC(TODO_SORT_DUE_DESC, "due_desc", DUE_DESC("") " DESC, id DESC",
               DUE_DESC(""), DUE_DESC("t."), "timestamptz", INF),
    LISTS_ASC(TODO_SORT_PRIORITY_ASC, "priority_asc", "priority, id",
              "priority", "t.priority", "smallint", "-1"),
    LISTS_DESC(TODO_SORT_PRIORITY_DESC, "priority_desc",
               "priority DESC, id DESC", "priority", "t.priority",
               "smallint", "32767"),
    LISTS_ASC(TODO_SORT_TITLE_ASC, "title_asc", TITLE_KEY ", id", TITLE_KEY,
              "lower(t.title)", "text", "''"),
    LISTS_DESC(TODO_SORT_TITLE_DESC, "title_desc", TITLE_KEY " DESC, id DESC",
               TITLE_KEY, "lower(t.title)", "text", TITLE_MAX),
};

/* clang-format on */

const todo_stmt_t *todo_sql_stmt(todo_stmt_e which)
{
    return (unsigned)which < TODO_STMT_COUNT ? &stmts[which] : NULL;
}

/* Which of the three list shapes a query needs (see SQL_LIST_PLAIN). */
static int list_shape(const todo_list_query_t *q)
{
    if (q->q || q->due_before || q->due_after || q->updated_since) {
        return TODO_STMT_LIST_FIRST;
    }
    return q->status == TODO_STATUS_ALL ? TODO_STMT_LISTP_FIRST
                                        : TODO_STMT_LISTS_FIRST;
}

todo_stmt_e todo_sql_list_stmt(const todo_list_query_t *q)
{
    return (todo_stmt_e)(list_shape(q) + q->sort);
}

static const char *flag(int on)
{
    return on ? "t" : "f";
}

/* An optional argument's value: "" when absent (see OPT). */
static const char *opt(const char *v)
{
    return v ? v : "";
}

const char **todo_sql_args_create(apr_pool_t *p, const char *user,
                                  const todo_task_input_t *in)
{
    const char **a = apr_pcalloc(p, 6 * sizeof(*a));

    a[0] = user;
    a[1] = in->title;
    a[2] = in->description;
    a[3] = flag(in->completed);
    a[4] = apr_itoa(p, in->priority);
    a[5] = opt(in->due_at);
    return a;
}

const char **todo_sql_args_update(apr_pool_t *p, const char *user,
                                  const char *id, const char *versions,
                                  const todo_task_input_t *in, int toggle)
{
    const char **a = apr_pcalloc(p, 11 * sizeof(*a));
    unsigned has = in ? in->present : 0;

    a[0] = user;
    a[1] = id;
    a[2] = opt(versions);
    a[3] = opt((has & TODO_F_TITLE) ? in->title : NULL);
    a[4] = flag(has & TODO_F_DESCRIPTION);
    /* description is the one argument where "" is a value: when it is to
     * be set, NULL binds SQL NULL (clear it); otherwise it is ignored. */
    a[5] = (has & TODO_F_DESCRIPTION) ? in->description : "";
    a[6] = flag(toggle);
    a[7] = opt((has & TODO_F_COMPLETED) ? flag(in->completed) : NULL);
    a[8] = opt((has & TODO_F_PRIORITY) ? apr_itoa(p, in->priority) : NULL);
    a[9] = flag(has & TODO_F_DUE_AT);
    a[10] = opt((has & TODO_F_DUE_AT) ? in->due_at : NULL);
    return a;
}

int todo_sql_prune_limit(const char *hex)
{
    int d = hex ? todo_text_hex_value((unsigned char)*hex) : -1;

    /* One hex digit in 16/TODO_SQL_PRUNE_EVERY. */
    return d >= 0 && d < 16 / TODO_SQL_PRUNE_EVERY ? TODO_SQL_PRUNE_MAX : 0;
}

const char **todo_sql_args_delete(apr_pool_t *p, const char *user,
                                  const char *id, const char *versions,
                                  int tomb_retention)
{
    const char **a = apr_pcalloc(p, 5 * sizeof(*a));

    a[0] = user;
    a[1] = id;
    a[2] = opt(versions);
    a[3] = apr_itoa(p, tomb_retention);
    /* The task id is random: it picks the deletes that prune. */
    a[4] = apr_itoa(p, todo_sql_prune_limit(id));
    return a;
}

const char **todo_sql_args_get(apr_pool_t *p, const char *user, const char *id)
{
    const char **a = apr_pcalloc(p, 2 * sizeof(*a));

    a[0] = user;
    a[1] = id;
    return a;
}

const char **todo_sql_args_foreign(apr_pool_t *p, const char *user,
                                   const char *id)
{
    const char **a = apr_pcalloc(p, 2 * sizeof(*a));

    a[0] = id;
    a[1] = user;
    return a;
}

const char **todo_sql_args_list(apr_pool_t *p, const char *user,
                                const todo_list_query_t *q,
                                const char *after_key, const char *after_id)
{
    const char **a = apr_pcalloc(p, 10 * sizeof(*a));
    const char *done = flag(q->status == TODO_STATUS_COMPLETED);
    const char *lim = apr_itoa(p, q->limit + 1), *off = apr_ltoa(p, q->offset);
    int n = 0;

    /* The count and the page each name the user (and the status). */
    switch (list_shape(q)) {
    case TODO_STMT_LISTP_FIRST:
        a[n++] = user;
        a[n++] = user;
        break;
    case TODO_STMT_LISTS_FIRST:
        a[n++] = user;
        a[n++] = done;
        a[n++] = user;
        a[n++] = done;
        break;
    default:
        a[n++] = user;
        a[n++] = q->status == TODO_STATUS_ALL ? "" : done;
        a[n++] = opt(q->q);
        a[n++] = opt(q->due_before);
        a[n++] = opt(q->due_after);
        a[n++] = opt(q->updated_since);
    }
    a[n++] = opt(after_key);
    a[n++] = opt(after_id);
    a[n++] = lim;
    a[n] = off;
    return a;
}

/* The arguments every keyed statement ends with (IDEM_PARAMS); the
 * fingerprint (a SHA-256) picks the writes that prune. */
static void idem_tail(apr_pool_t *p, const char **a, const todo_idem_args_t *k)
{
    a[0] = k->key;
    a[1] = k->fingerprint;
    a[2] = k->request_id;
    a[3] = apr_itoa(p, k->retention);
    a[4] = apr_itoa(p, todo_sql_prune_limit(k->fingerprint));
}

const char **todo_sql_args_create_idem(apr_pool_t *p, const char *user,
                                       const todo_task_input_t *in,
                                       const char *loc,
                                       const todo_idem_args_t *k)
{
    const char **a = apr_pcalloc(p, 14 * sizeof(*a));

    memcpy(a, todo_sql_args_create(p, user, in), 6 * sizeof(*a));
    a[6] = k->head;
    a[7] = k->tail;
    a[8] = loc;
    idem_tail(p, a + 9, k);
    return a;
}

const char **todo_sql_args_update_idem(apr_pool_t *p, const char *user,
                                       const char *id, const char *versions,
                                       const todo_task_input_t *in, int toggle,
                                       const todo_idem_args_t *k)
{
    const char **a = apr_pcalloc(p, 21 * sizeof(*a));

    memcpy(a, todo_sql_args_update(p, user, id, versions, in, toggle),
           11 * sizeof(*a));
    a[11] = k->head;
    a[12] = k->tail;
    a[13] = k->b404;
    a[14] = k->b412;
    a[15] = opt(k->b403);
    idem_tail(p, a + 16, k);
    return a;
}

const char **todo_sql_args_delete_idem(apr_pool_t *p, const char *user,
                                       const char *id, const char *versions,
                                       int tomb_retention,
                                       const todo_idem_args_t *k)
{
    const char **a = apr_pcalloc(p, 13 * sizeof(*a));

    memcpy(a, todo_sql_args_delete(p, user, id, versions, tomb_retention),
           5 * sizeof(*a));
    a[5] = k->b404;
    a[6] = k->b412;
    a[7] = opt(k->b403);
    idem_tail(p, a + 8, k);
    return a;
}

const char **todo_sql_args_idem_store(apr_pool_t *p, const char *user,
                                      int status, const char *body,
                                      const todo_idem_args_t *k)
{
    const char **a = apr_pcalloc(p, 8 * sizeof(*a));

    a[0] = user;
    a[1] = apr_itoa(p, status);
    a[2] = body;
    idem_tail(p, a + 3, k);
    return a;
}

const char **todo_sql_args_idem_get(apr_pool_t *p, const char *user,
                                    const todo_idem_args_t *k)
{
    const char **a = apr_pcalloc(p, 4 * sizeof(*a));

    a[0] = k->fingerprint;
    a[1] = user;
    a[2] = k->key;
    a[3] = apr_itoa(p, k->retention);
    return a;
}

const char **todo_sql_args_idem_expire(apr_pool_t *p, const char *user,
                                       const todo_idem_args_t *k)
{
    const char **a = apr_pcalloc(p, 3 * sizeof(*a));

    a[0] = user;
    a[1] = k->key;
    a[2] = apr_itoa(p, k->retention);
    return a;
}

const char **todo_sql_args_changes(apr_pool_t *p, const char *user,
                                   const char *since, const char *upto,
                                   apr_int64_t pos_xid, const char *pos_id,
                                   int limit)
{
    const char **a = apr_pcalloc(p, 8 * sizeof(*a));
    const char *lim = apr_itoa(p, limit + 1);

    a[0] = user;
    a[1] = opt(since);
    a[2] = opt(upto);
    a[3] = apr_psprintf(p, "%" APR_INT64_T_FMT, pos_xid);
    a[4] = pos_id;
    a[5] = lim;
    a[6] = lim;
    a[7] = lim;
    return a;
}

const char *todo_sql_native(apr_pool_t *p, const todo_stmt_t *st)
{
    size_t n = strlen(st->sql);
    char *out = apr_palloc(p, n * 2 + 1), *o = out;
    const char *s;
    int i = 0;

    for (s = st->sql; *s; s++) {
        if (s[0] == '%' && s[1] == '%') {
            *o++ = '%';
            s++;
        }
        else if (s[0] == '%' && s[1] == 's') {
            o += apr_snprintf(o, 12, "$%d", ++i);
            s++;
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* libpq's verbose form, which mod_todo_dbd.c asks for on every
 * connection: "SEVERITY:  XXXXX: text" -- the severity and the text in
 * the server's lc_messages language, the SQLSTATE always the same. */
int todo_sql_error_code(const char *message, char code[6])
{
    const char *p = message ? strstr(message, ":  ") : NULL;
    int i;

    if (!p || memchr(message, '\n', (size_t)(p - message))) {
        return 0; /* not on the first line: no code */
    }
    p += 3;
    for (i = 0; i < 5; i++) {
        if (!(p[i] >= '0' && p[i] <= '9') && !(p[i] >= 'A' && p[i] <= 'Z')) {
            return 0;
        }
    }
    if (p[5] != ':') {
        return 0;
    }
    memcpy(code, p, 5);
    code[5] = '\0';
    return 1;
}

/* "cached plan must not change result type" is feature_not_supported,
 * a class no statement of ours otherwise meets; should another ever come,
 * renewing the statement costs one round trip and the retry fails alike. */
int todo_sql_error_stale_plan(const char *message)
{
    char code[6];

    return todo_sql_error_code(message, code) && !strcmp(code, "0A000");
}

/* Either way the connection is not on a primary any more: the glue
 * resets it, which with target_session_attrs=read-write finds the new
 * primary.  Only 25006 says for sure that nothing ran. */
todo_sql_conn_e todo_sql_error_conn(const char *message)
{
    char code[6];

    if (!todo_sql_error_code(message, code)) {
        return TODO_SQL_CONN_OK;
    }
    if (!strcmp(code, "25006")) {
        return TODO_SQL_CONN_READ_ONLY;
    }
    if (!strncmp(code, "57P", 3) || !strncmp(code, "08", 2)) {
        return TODO_SQL_CONN_LOST;
    }
    return TODO_SQL_CONN_OK;
}

/* The client's data: a unique violation (23505) is a conflict; a check
 * constraint (23514) or a value the column's type refuses (class 22,
 * data exception: out of range, invalid input syntax, too long) a bad
 * request.  A server that cannot take the statement now is unavailable.
 * Anything else, or no code at all, is the server's fault. */
int todo_sql_error_status(const char *message)
{
    char code[6];

    if (!todo_sql_error_code(message, code)) {
        return 500;
    }
    if (todo_sql_error_conn(message) != TODO_SQL_CONN_OK) {
        return 503;
    }
    if (!strcmp(code, "23505")) {
        return 409;
    }
    if (!strcmp(code, "23514") || !strncmp(code, "22", 2)) {
        return 400;
    }
    return 500;
}
