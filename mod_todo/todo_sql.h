/* todo_sql: every SQL statement the module runs, with its mod_dbd label and
 * argument order, in one place.  Free of httpd.
 *
 * Statements are prepared once per pooled connection by mod_dbd
 * (ap_dbd_prepare); arguments are always bound, never spliced into SQL.
 * apr_dbd's pgsql driver binds every "%s" as varchar, hence the CASTs.
 * Each request is one statement, one round trip: writes report through
 * CTEs whether the row existed, so 404 and 412 need no second query.
 */
#ifndef TODO_SQL_H
#define TODO_SQL_H

#include <apr_pools.h>
#include "todo_query.h"
#include "todo_task.h"

typedef enum {
    TODO_STMT_HEALTH = 0,
    TODO_STMT_GET,
    TODO_STMT_CREATE,
    TODO_STMT_UPDATE,
    TODO_STMT_DELETE,
    TODO_STMT_FOREIGN,
    /* Writes with an Idempotency-Key (docs/api.md §9): the write and its
     * stored answer in one statement; an answer made before any SQL;
     * a stored answer. */
    TODO_STMT_CREATE_IDEM,
    TODO_STMT_UPDATE_IDEM,
    TODO_STMT_DELETE_IDEM,
    TODO_STMT_IDEM_STORE,
    TODO_STMT_IDEM_GET,
    TODO_STMT_IDEM_EXPIRE,
    /* A page of the changes feed (docs/api.md §10). */
    TODO_STMT_CHANGES,
    /* The key of cursors and sync tokens. */
    TODO_STMT_TOKEN_KEY,
    /* One list statement per sort order, in three shapes: any filters,
     * no filter (plain), status only. */
    TODO_STMT_LIST_FIRST,
    TODO_STMT_LISTP_FIRST = TODO_STMT_LIST_FIRST + TODO_SORT_COUNT,
    TODO_STMT_LISTS_FIRST = TODO_STMT_LISTP_FIRST + TODO_SORT_COUNT,
    TODO_STMT_COUNT = TODO_STMT_LISTS_FIRST + TODO_SORT_COUNT
} todo_stmt_e;

typedef struct {
    const char *label; /* lower case: the driver PREPAREs it */
    const char *sql;   /* apr_dbd syntax: %s placeholders */
    int nargs;
} todo_stmt_t;

const todo_stmt_t *todo_sql_stmt(todo_stmt_e which);
/* The list statement for a query: its sort, and the simplest shape that
 * holds its filters. */
todo_stmt_e todo_sql_list_stmt(const todo_list_query_t *q);

/* Columns of a task row, in the order every task statement returns them.
 * GET, CREATE return exactly these; UPDATE and LIST put one extra column
 * first (found / total), LIST one more after them (the sort key, for a
 * cursor: TODO_COL_COUNT + 1), DELETE returns (found, deleted). */
enum {
    TODO_COL_ID = 0,
    TODO_COL_USER_ID,
    TODO_COL_TITLE,
    TODO_COL_DESCRIPTION,
    TODO_COL_COMPLETED,
    TODO_COL_COMPLETED_AT,
    TODO_COL_PRIORITY,
    TODO_COL_DUE_AT,
    TODO_COL_CREATED_AT,
    TODO_COL_UPDATED_AT,
    TODO_COL_VERSION,
    TODO_COL_COUNT
};

/* The row of a keyed statement (and of TODO_STMT_IDEM_GET). */
enum {
    TODO_IDEM_COL_OUTCOME = 0, /* done, replay, mismatch, busy */
    TODO_IDEM_COL_STATUS,
    TODO_IDEM_COL_ETAG,      /* NULL: none */
    TODO_IDEM_COL_LOCATION,  /* NULL: none */
    TODO_IDEM_COL_BODY,      /* NULL: no body (204) */
    TODO_IDEM_COL_REQUEST_ID /* replay: the request that made the answer */
};

/* The rows of TODO_STMT_CHANGES: the first two columns on every row (one
 * row with NULL change columns when the page is empty), then a change:
 * kind "t" (a task: TODO_COL_* from TODO_CHANGES_COL_TASK) or "d" (a
 * tombstone: the id at TODO_CHANGES_COL_TASK + TODO_COL_ID and
 * TODO_CHANGES_COL_DELETED_AT). */
enum {
    TODO_CHANGES_COL_UPTO = 0, /* the sync's snapshot, pg_snapshot text */
    TODO_CHANGES_COL_GONE,     /* t: a tombstone since needs was pruned */
    TODO_CHANGES_COL_KIND,
    TODO_CHANGES_COL_XID,
    TODO_CHANGES_COL_TASK,
    TODO_CHANGES_COL_DELETED_AT = TODO_CHANGES_COL_TASK + TODO_COL_COUNT
};

/* What a keyed write stores and answers with (docs/api.md §9). */
typedef struct {
    const char *key;         /* the Idempotency-Key */
    const char *fingerprint; /* todo_idem_fingerprint() */
    const char *request_id;  /* of this request */
    int retention;           /* TodoIdempotencyRetention, seconds */
    /* The success envelope around "data" (todo_json), tail with this
     * request's meta. */
    const char *head, *tail;
    /* The error answers the statement may choose, whole envelopes;
     * b403 NULL unless another user's task is a 403. */
    const char *b404, *b412, *b403;
} todo_idem_args_t;

/* Argument vectors (NULL entries bind SQL NULL).  Each returns an array of
 * todo_sql_stmt(..)->nargs strings allocated in p. */
const char **todo_sql_args_create(apr_pool_t *p, const char *user,
                                  const todo_task_input_t *in);
/* toggle: flip completed (PATCH .../complete without a body).
 * versions: from todo_etag_match_versions (NULL: no If-Match). */
const char **todo_sql_args_update(apr_pool_t *p, const char *user,
                                  const char *id, const char *versions,
                                  const todo_task_input_t *in, int toggle);
/* tomb_retention: TodoTombstoneRetention, seconds (a delete prunes). */
const char **todo_sql_args_delete(apr_pool_t *p, const char *user,
                                  const char *id, const char *versions,
                                  int tomb_retention);
const char **todo_sql_args_get(apr_pool_t *p, const char *user,
                               const char *id);
const char **todo_sql_args_foreign(apr_pool_t *p, const char *user,
                                   const char *id);
/* after_key, after_id: the cursor's position (NULL: from the start).
 * The statement's LIMIT is q->limit + 1: the extra row says whether a
 * next page exists. */
const char **todo_sql_args_list(apr_pool_t *p, const char *user,
                                const todo_list_query_t *q,
                                const char *after_key, const char *after_id);
/* loc: the Location of the created task without its id. */
const char **todo_sql_args_create_idem(apr_pool_t *p, const char *user,
                                       const todo_task_input_t *in,
                                       const char *loc,
                                       const todo_idem_args_t *k);
const char **todo_sql_args_update_idem(apr_pool_t *p, const char *user,
                                       const char *id, const char *versions,
                                       const todo_task_input_t *in, int toggle,
                                       const todo_idem_args_t *k);
const char **todo_sql_args_delete_idem(apr_pool_t *p, const char *user,
                                       const char *id, const char *versions,
                                       int tomb_retention,
                                       const todo_idem_args_t *k);
/* Store an answer made before any SQL: status and the whole body. */
const char **todo_sql_args_idem_store(apr_pool_t *p, const char *user,
                                      int status, const char *body,
                                      const todo_idem_args_t *k);
const char **todo_sql_args_idem_get(apr_pool_t *p, const char *user,
                                    const todo_idem_args_t *k);
/* Delete the key's answer if it has expired. */
const char **todo_sql_args_idem_expire(apr_pool_t *p, const char *user,
                                       const todo_idem_args_t *k);

/* Pruning in the write path (docs/operations.md, "Retention and
 * pruning"): one write in TODO_SQL_PRUNE_EVERY deletes up to
 * TODO_SQL_PRUNE_MAX expired rows of the user -- 4 a write on average,
 * more than the one a write adds -- and the others spend nothing on it.
 * Which ones: the first hex digit of something random the request
 * carries (a fingerprint, a task id), so a retry prunes as the first try
 * did.  Returns the LIMIT for that request: TODO_SQL_PRUNE_MAX or 0. */
#define TODO_SQL_PRUNE_EVERY 8
#define TODO_SQL_PRUNE_MAX 32
int todo_sql_prune_limit(const char *hex);
/* since, upto: pg_snapshot texts (NULL: a full sync; the statement's own
 * snapshot); after (pos_xid, pos_id); limit + 1 rows at most. */
const char **todo_sql_args_changes(apr_pool_t *p, const char *user,
                                   const char *since, const char *upto,
                                   apr_int64_t pos_xid, const char *pos_id,
                                   int limit);

/* The session settings every statement here is written for, applied by
 * the glue once per database session (a new pooled connection, or one
 * reset after an outage), and by the benchmark's pgbench (PGOPTIONS):
 * - plan_cache_mode: each statement is shaped so that one plan suits all
 *   argument values; PostgreSQL would still plan the list statements anew
 *   on every execution, because a parameter in LIMIT/OFFSET makes it guess
 *   10 % of the rows and cost the generic plan above a custom one.
 * - DateStyle: the task timestamps are read as text casts, which follow
 *   it (see TS in todo_sql.c); ISO is the only form
 *   todo_time_from_pg() takes.
 * One list, so that the SQL and the options cannot drift apart: X(name,
 * value) for each setting, SEP between two.  Values must not contain
 * blanks or quotes (PGOPTIONS would need escapes, the SQL quotes them). */
#define TODO_SQL_SESSION_SETTINGS(X, SEP) \
    X("plan_cache_mode", "force_generic_plan") SEP X("DateStyle", "ISO")

#define TODO_SQL_SET_CONFIG(name, value) \
    "set_config('" name "', '" value "', false)"
/* All the settings in one statement: one round trip. */
#define TODO_SQL_SESSION_SETUP \
    "SELECT " TODO_SQL_SESSION_SETTINGS(TODO_SQL_SET_CONFIG, ", ")

#define TODO_SQL_PGOPTION(name, value) "-c " name "=" value
/* The same settings as libpq's PGOPTIONS, for pgbench. */
#define TODO_SQL_SESSION_PGOPTIONS \
    TODO_SQL_SESSION_SETTINGS(TODO_SQL_PGOPTION, " ")

/* The statement in PostgreSQL's own syntax ($1, $2, ...), as the driver
 * sends it; used by the benchmark to give pgbench the very same SQL. */
const char *todo_sql_native(apr_pool_t *p, const todo_stmt_t *st);

/* The SQLSTATE of a PostgreSQL error message in libpq's verbose form
 * ("ERROR:  23505: duplicate key ..."), into code; 0 when it has none. */
int todo_sql_error_code(const char *message, char code[6]);

/* Classify a PostgreSQL error message (verbose form) after a failed
 * statement, by its SQLSTATE, whatever the server's language:
 * 400 for a check constraint or bad value, 409 for a unique violation,
 * 503 when the server could not take it (todo_sql_error_conn() is not
 * TODO_SQL_CONN_OK), 500 for anything else. */
int todo_sql_error_status(const char *message);

/* What a failed statement tells about its connection (SPEC section 11,
 * failover).  By SQLSTATE only: a message without one (libpq's own words,
 * in the client's language) is TODO_SQL_CONN_OK here, and the glue finds
 * out by a round trip whether the connection still works. */
typedef enum {
    TODO_SQL_CONN_OK = 0, /* the statement's own failure */
    /* 25006: the server refused it as read-only -- a standby now, or a
     * node being promoted or demoted.  Refused before it ran anything. */
    TODO_SQL_CONN_READ_ONLY,
    /* Classes 57P (57P01 admin shutdown, 57P02 crash shutdown, 57P03
     * cannot connect now, ...) and 08 (connection exception): the session
     * is gone.  Whether the statement ran is unknown. */
    TODO_SQL_CONN_LOST
} todo_sql_conn_e;

todo_sql_conn_e todo_sql_error_conn(const char *message);

/* Whether the message (verbose form) is PostgreSQL refusing a prepared
 * statement whose result columns changed type since it was prepared (a
 * migration altered a column it returns): refused before running any of
 * it, and refused for good on that connection until prepared again. */
int todo_sql_error_stale_plan(const char *message);

#endif
