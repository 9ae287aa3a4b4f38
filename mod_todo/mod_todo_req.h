/* mod_todo_req: what the glue files share, and the only header through
 * which one glue file reaches another: the module's identity in the error
 * log, a todo location as startup resolved it (todo_site_t), the state of
 * one request (todo_req_t), and the database service of mod_todo_dbd.c.
 * The hub (mod_todo.c) wires each glue file's hooks into httpd. */
#ifndef MOD_TODO_REQ_H
#define MOD_TODO_REQ_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_dbd.h>

#include "todo_log.h"
#include "todo_ratelimit.h"
#include "todo_route.h"
#include "todo_sql.h"
#include "todo_token.h"
#include "todo_verifier.h"

/* So that "LogLevel todo:debug" selects this module's messages. */
APLOG_USE_MODULE(todo);
extern module AP_MODULE_DECLARE_DATA todo_module;

/* Our own tag for log lines (todo_log.h); listed in docs/operations.md. */
#define TODOLOG(n) TODO_LOGNO(n)

/* Every error-log line about a request names its request id. */
#define todo_rlog(r, level, status, tag, fmt, ...)                            \
    ap_log_rerror(APLOG_MARK, level, status, r, TODOLOG(tag) "[req %s] " fmt, \
                  todo_req_id(r), ##__VA_ARGS__)

#define TODO_HANDLER "todo"

/* A todo location (a <Location> with "SetHandler todo") as it runs: every
 * Todo* value with its default applied, resolved once at startup by
 * mod_todo_config.c.  Read-only afterwards. */
typedef struct {
    const char *prefix; /* route prefix P, no trailing / */
    todo_verifier_t *verifier;
    int foreign_status;                     /* 404 or 403 */
    const apr_array_header_t *cors_origins; /* of const char *; NULL: none */
    apr_off_t max_body;
    int page_default;
    int page_max;
    int docs;                        /* serve P/docs */
    const char *docs_assets;         /* where it loads Swagger UI from */
    todo_ratelimit_conf_t ratelimit; /* requests 0: off */
    int idem_retention; /* Idempotency-Key answers kept, seconds */
    int tomb_retention; /* tombstones kept (and sync tokens good) */
} todo_site_t;

/* What the hooks of one request share (r->request_config), set up by the
 * header parser for requests under a todo location. */
typedef struct {
    const char *id; /* request id (X-Request-Id, meta) */
    const todo_site_t *site;
    todo_route_t route;
    const char *origin; /* allowed CORS origin, or NULL */
    /* An error decided before the handler (401 in the access checker),
     * rendered as JSON by the error filter. */
    const char *err_code;
    const char *err_message;
    int body_read; /* the request body was read whole */
} todo_req_t;

/* The state of a request under a todo location, or NULL for others. */
todo_req_t *todo_req_get(request_rec *r);

/* Its id, or "-" outside a todo location. */
const char *todo_req_id(request_rec *r);

/* Refuse a request before the handler runs: remember the code and message
 * for the JSON error filter and return status, for a hook to return. */
int todo_req_refuse(request_rec *r, todo_req_t *q, int status,
                    const char *code, const char *message);

/* Set the request id and, for an allowed origin, the CORS headers on the
 * response (err_headers_out, so error pages carry them too); again if an
 * error page emptied the tables. */
void todo_req_headers(request_rec *r, todo_req_t *q);

/* The hooks of mod_todo_req.c, for the hub: request ids (child_init);
 * the request's state, made as soon as the location is known
 * (pre_translate_name) and routed once the URI is decoded
 * (header_parser); a todo URI maps to no file (translate_name,
 * map_to_storage). */
void todo_req_child_init(apr_pool_t *p, server_rec *s);
int todo_req_pre_translate(request_rec *r);
int todo_req_translate(request_rec *r);
int todo_req_map_to_storage(request_rec *r);
int todo_req_header_parser(request_rec *r);

/* Whether the server's configuration (every section, conditional ones
 * included) has a directive named `directive` (case-insensitive) whose
 * first argument is `arg` (exact; NULL: any).  For startup only. */
int todo_req_conf_has(apr_pool_t *p, const char *directive, const char *arg);

/* ------------------------------------------------- the database service */

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_results_t *res;
    int nrows;
    apr_dbd_row_t *row; /* the current row */
} todo_rows_t;

/* Run a statement.  Returns OK with the rows, or the HTTP status to answer:
 * 503 when the database is unreachable (Retry-After set), 400/409 for data
 * the database refused, 500 otherwise (details go to the error log only).
 * `idempotent` says whether the statement may be sent again after a
 * connection was lost mid-request. */
int todo_dbd_run(request_rec *r, todo_stmt_e which, const char **args,
                 int idempotent, todo_rows_t *rows);

/* Select row n (0-based); 0 on success.  Column values stay valid for the
 * life of the request pool. */
int todo_dbd_row(request_rec *r, todo_rows_t *rows, int n);

/* Column col of the current row, or NULL for SQL NULL. */
const char *todo_dbd_col(const todo_rows_t *rows, int col);

/* ------------------------------------------ the key of opaque tokens */

/* The key that seals list cursors and sync tokens (todo_token.h), read
 * from the database (sql/deploy/token_key.sql) once per Apache child and
 * server, in mod_todo_secret.c.  OK with *key, or the HTTP status to
 * answer (503 when the database is unreachable, 500 otherwise). */
int todo_secret_get(request_rec *r, todo_token_key_t *key);

/* Its child_init hook, for the hub. */
void todo_secret_child_init(apr_pool_t *p, server_rec *s);

#endif
