#include <string.h>
#include <apr_strings.h>
#include "todo_sql.h"

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

#define SQL_DELETE                                                      \
    "WITH p AS (SELECT CAST(%s AS text) AS uid, CAST(%s AS uuid) AS id,"\
    " " OPT("bigint[]") " AS vers),"                                    \
    " cur AS (SELECT 1 FROM tasks t, p"                                 \
    " WHERE t.user_id = p.uid AND t.id = p.id),"                        \
    " d AS (DELETE FROM tasks t USING p"                                \
    " WHERE t.user_id = p.uid AND t.id = p.id"                          \
    " AND (p.vers IS NULL OR t.version = ANY (p.vers)) RETURNING 1)"    \
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
 * TODO_SQL_SESSION_SETUP.)  strpos() avoids LIKE's wildcards in q. */
#define SQL_PAGE(where, order)                                          \
    " LEFT JOIN LATERAL (SELECT * FROM tasks WHERE " where              \
    " ORDER BY " order                                                  \
    " LIMIT CAST(%s AS integer) OFFSET CAST(%s AS bigint)) AS t ON true"
#define SQL_LIST_PLAIN(order)                                           \
    "SELECT c.total, " TASK_COLS " FROM (SELECT coalesce((SELECT n.total"\
    " FROM task_counts n WHERE n.user_id = CAST(%s AS text)), 0) AS total)"\
    " AS c"                                                             \
    SQL_PAGE("user_id = CAST(%s AS text)", order)
#define SQL_LIST_STATUS(order)                                          \
    "SELECT c.total, " TASK_COLS " FROM (SELECT coalesce((SELECT"       \
    " CASE WHEN x.done THEN n.completed ELSE n.total - n.completed END" \
    " FROM task_counts n WHERE n.user_id = x.uid), 0) AS total"         \
    " FROM (SELECT CAST(%s AS text) AS uid, CAST(%s AS boolean) AS done)"\
    " AS x) AS c"                                                       \
    SQL_PAGE("user_id = CAST(%s AS text) AND completed = CAST(%s AS boolean)",\
             order)
#define SQL_LIST(order)                                                 \
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
    " SELECT c.total, " TASK_COLS                                       \
    " FROM (SELECT count(*) AS total FROM m) AS c"                      \
    " LEFT JOIN LATERAL (SELECT * FROM m ORDER BY " order               \
    " LIMIT CAST(%s AS integer) OFFSET CAST(%s AS bigint)) AS t ON true"

/* Titles order by lower(title) in byte (code point) order, whatever the
 * database's collation, so the order is the same on every installation
 * and matches the tasks_user_title index. */
#define TITLE_KEY "lower(title) COLLATE \"C\""

/* The ten sort orders, each in the three list shapes. */
#define LISTS(sort, name, order)                                        \
    [TODO_STMT_LIST_FIRST + sort] =                                     \
        {"todo_list_" name, SQL_LIST(order), 8},                        \
    [TODO_STMT_LISTP_FIRST + sort] =                                    \
        {"todo_listp_" name, SQL_LIST_PLAIN(order), 4},                 \
    [TODO_STMT_LISTS_FIRST + sort] =                                    \
        {"todo_lists_" name, SQL_LIST_STATUS(order), 6}

static const todo_stmt_t stmts[TODO_STMT_COUNT] = {
    [TODO_STMT_HEALTH]  = {"todo_health", "SELECT 1", 0},
    [TODO_STMT_GET]     = {"todo_get", SQL_GET, 2},
    [TODO_STMT_CREATE]  = {"todo_create", SQL_CREATE, 6},
    [TODO_STMT_UPDATE]  = {"todo_update", SQL_UPDATE, 11},
    [TODO_STMT_DELETE]  = {"todo_delete", SQL_DELETE, 3},
    [TODO_STMT_FOREIGN] = {"todo_foreign", SQL_FOREIGN, 2},
    LISTS(TODO_SORT_CREATED_DESC, "created_desc", "created_at DESC, id DESC"),
    LISTS(TODO_SORT_CREATED_ASC, "created_asc", "created_at, id"),
    LISTS(TODO_SORT_UPDATED_ASC, "updated_asc", "updated_at, id"),
    LISTS(TODO_SORT_UPDATED_DESC, "updated_desc", "updated_at DESC, id DESC"),
    LISTS(TODO_SORT_DUE_ASC, "due_asc", "due_at ASC NULLS LAST, id"),
    LISTS(TODO_SORT_DUE_DESC, "due_desc", "due_at DESC NULLS LAST, id DESC"),
    LISTS(TODO_SORT_PRIORITY_ASC, "priority_asc", "priority, id"),
    LISTS(TODO_SORT_PRIORITY_DESC, "priority_desc", "priority DESC, id DESC"),
    LISTS(TODO_SORT_TITLE_ASC, "title_asc", TITLE_KEY ", id"),
    LISTS(TODO_SORT_TITLE_DESC, "title_desc", TITLE_KEY " DESC, id DESC"),
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

const char **todo_sql_args_delete(apr_pool_t *p, const char *user,
                                  const char *id, const char *versions)
{
    const char **a = apr_pcalloc(p, 3 * sizeof(*a));

    a[0] = user;
    a[1] = id;
    a[2] = opt(versions);
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
                                const todo_list_query_t *q)
{
    const char **a = apr_pcalloc(p, 8 * sizeof(*a));
    const char *done = flag(q->status == TODO_STATUS_COMPLETED);
    const char *lim = apr_itoa(p, q->limit), *off = apr_ltoa(p, q->offset);
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
    a[n++] = lim;
    a[n] = off;
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
