/* The content handler of "SetHandler todo". */
#include <apr_strings.h>
#include <apr_lib.h>
#include <util_filter.h>

#include "mod_todo_api.h"
#include "mod_todo_config.h"
#include "mod_todo_dbd.h"
#include "mod_todo_docs.h"
#include "todo_json.h"
#include "todo_query.h"
#include "todo_sql.h"
#include "todo_util.h"

extern const char todo_openapi_doc[];

#define CORS_ALLOW_HEADERS \
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key"
/* SPEC section 7: what a browser script may read of a response. */
#define CORS_EXPOSE_HEADERS \
    "ETag, Location, Link, X-Request-Id, Retry-After, WWW-Authenticate, " \
    "Idempotent-Replayed, RateLimit-Limit, RateLimit-Remaining, " \
    "RateLimit-Reset"
#define CORS_MAX_AGE "600"

/* ----------------------------------------------------------- responses */

static void meta_of(request_rec *r, todo_meta_t *m, char *ts)
{
    todo_util_format_time(ts, apr_time_now());
    m->request_id = todo_request_id(r);
    m->timestamp = ts;
}

/* The request id and CORS headers, again if they were lost.  The header
 * parser sets them in err_headers_out, and they survive the error pages
 * httpd makes -- except when its input filter refuses a malformed body
 * (bad chunking) and answers with ap_die() from inside our read: by the
 * time that page reaches the JSON error filter both header tables have
 * been emptied (seen with httpd 2.4.71). */
static void error_headers(request_rec *r)
{
    todo_req_t *q = todo_req_get(r);

    if (!q || apr_table_get(r->headers_out, "X-Request-Id")
        || apr_table_get(r->err_headers_out, "X-Request-Id")) {
        return;
    }
    apr_table_setn(r->err_headers_out, "X-Request-Id", q->id);
    todo_api_cors(r, q);
}

void todo_api_error_body(request_rec *r, todo_buf_t *b, int status,
                         const char *code, const char *message,
                         const apr_array_header_t *details)
{
    char ts[TODO_UTIL_TS_LEN];
    todo_meta_t m;

    error_headers(r);
    meta_of(r, &m, ts);
    todo_json_error(b, code ? code : todo_json_status_code(status),
                    message ? message : todo_json_status_message(status),
                    details, &m);
}

/* Send b as the whole response body. */
static int send_json(request_rec *r, int status, todo_buf_t *b)
{
    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)b->len);
    if (!r->header_only) {
        ap_rwrite(b->data, (int)b->len, r);
    }
    return OK;
}

static int send_error(request_rec *r, int status, const char *message,
                      const apr_array_header_t *details)
{
    todo_buf_t b;

    todo_buf_init(&b, r->pool, 256);
    todo_api_error_body(r, &b, status, NULL, message, details);
    return send_json(r, status, &b);
}

static int send_empty(request_rec *r, int status)
{
    r->status = status;
    ap_set_content_length(r, 0);
    return OK;
}

/* Begin a success envelope; the caller writes "data" and calls end. */
static void data_begin(request_rec *r, todo_buf_t *b, apr_size_t size)
{
    todo_buf_init(b, r->pool, size);
    todo_json_data_begin(b);
}

static int data_end(request_rec *r, todo_buf_t *b, int status)
{
    char ts[TODO_UTIL_TS_LEN];
    todo_meta_t m;

    meta_of(r, &m, ts);
    todo_json_data_end(b, &m);
    return send_json(r, status, b);
}

/* A database failure already chose its status (and Retry-After). */
static int send_db_error(request_rec *r, int status)
{
    const char *msg = status == HTTP_SERVICE_UNAVAILABLE
        ? "the database is unavailable, try again shortly" : NULL;

    return send_error(r, status, msg, NULL);
}

void todo_api_cors(request_rec *r, todo_req_t *q)
{
    const apr_array_header_t *origins = q->cfg->cors_origins;
    const char *origin;
    int i;

    if (!origins) {
        return;
    }
    /* Responses differ by Origin whether or not this one is allowed. */
    apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    origin = apr_table_get(r->headers_in, "Origin");
    for (i = 0; origin && i < origins->nelts; i++) {
        if (!strcmp(origin, APR_ARRAY_IDX(origins, i, const char *))) {
            q->origin = APR_ARRAY_IDX(origins, i, const char *);
            apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin",
                           q->origin);
            apr_table_setn(r->err_headers_out,
                           "Access-Control-Expose-Headers",
                           CORS_EXPOSE_HEADERS);
            return;
        }
    }
}

/* -------------------------------------------------------- request body */

static int json_type(request_rec *r)
{
    return todo_util_is_json_media_type(apr_table_get(r->headers_in,
                                                      "Content-Type"));
}

/* Read the whole body, refusing more than the configured limit without
 * trusting Content-Length (a chunked body has none, a lying client can
 * send more).  *body is NULL when the request has no body (an empty
 * chunked one included). */
static int read_body(request_rec *r, const todo_req_t *q, const char **body,
                     apr_size_t *len)
{
    apr_off_t limit = todo_cfg_max_body(q->cfg);
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    todo_buf_t b;
    int eos = 0;

    *body = NULL;
    *len = 0;
    if (!ap_request_has_body(r)) {
        return OK;
    }
    if (cl && apr_atoi64(cl) > limit) {
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    /* With a length, refuse a wrong type before reading; a chunked body
     * may turn out empty (no body at all, which needs no type). */
    if (cl && !json_type(r)) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    todo_buf_init(&b, r->pool, cl ? (apr_size_t)apr_atoi64(cl) + 1 : 1024);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!eos) {
        apr_bucket *e;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);

        if (rv != APR_SUCCESS) {
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
             e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t n;

            if (APR_BUCKET_IS_EOS(e)) {
                eos = 1;
                break;
            }
            if (apr_bucket_read(e, &data, &n, APR_BLOCK_READ)
                != APR_SUCCESS) {
                return HTTP_BAD_REQUEST;
            }
            if ((apr_off_t)(b.len + n) > limit) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            todo_buf_append(&b, data, n);
        }
        apr_brigade_cleanup(bb);
    }
    if (!b.len) {
        return OK;
    }
    if (!cl && !json_type(r)) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    *body = b.data;
    *len = b.len;
    return OK;
}

/* A body problem decided before parsing: answer it. */
static int body_error(request_rec *r, int status)
{
    if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        /* Do not read (or wait for) the rest of an oversized body. */
        r->connection->keepalive = AP_CONN_CLOSE;
        return send_error(r, status, apr_psprintf(r->pool,
                          "request body exceeds %" APR_OFF_T_FMT " bytes",
                          todo_cfg_max_body(todo_req_get(r)->cfg)), NULL);
    }
    if (status == HTTP_UNSUPPORTED_MEDIA_TYPE) {
        return send_error(r, status, "request body must be application/json",
                          NULL);
    }
    return send_error(r, status, NULL, NULL);
}

/* Read and validate a task body of the given kind.  Returns OK; DONE when
 * the response was sent; AP_FILTER_ERROR when httpd's input filter met a
 * malformed body (bad chunking) and already answered it, so that nothing
 * more may be sent (a second response would replace the first one's
 * headers, X-Request-Id and CORS among them).  The handler returns what
 * task_done() makes of it. */
static int task_body(request_rec *r, todo_req_t *q, todo_body_kind_e kind,
                     todo_task_input_t *in, int *has_body)
{
    apr_array_header_t *details = apr_array_make(r->pool, 2,
                                                 sizeof(todo_detail_t));
    const char *body, *msg = NULL;
    apr_size_t len;
    int st = read_body(r, q, &body, &len);

    if (st == AP_FILTER_ERROR) {
        return st;
    }
    if (st != OK) {
        body_error(r, st);
        return DONE;
    }
    if (has_body) {
        *has_body = body != NULL;
        if (!*has_body) {
            return OK;
        }
    }
    st = todo_task_parse(r->pool, body ? body : "", len, kind, in, details,
                         &msg);
    if (st) {
        send_error(r, st, msg, details);
        return DONE;
    }
    return OK;
}

/* What the handler returns once task_body() did not return OK. */
static int task_done(int st)
{
    return st == AP_FILTER_ERROR ? st : OK;
}

/* ------------------------------------------------------------- tasks */

/* The timestamp in column col of the current row, in the API's RFC 3339
 * form, into *out (NULL for SQL NULL).  The database sends the text of
 * its DateStyle, which the session setup makes ISO (todo_sql.h): any
 * other form is not passed on but logged, and the row is refused (-1). */
static int row_time(request_rec *r, const todo_rows_t *rows, int col,
                    const char *name, const char **out)
{
    const char *v = todo_dbd_col(rows, col);
    char *ts;

    *out = NULL;
    if (!v) {
        return 0;
    }
    ts = apr_palloc(r->pool, TODO_UTIL_TS_LEN);
    if (todo_util_pg_time_convert(v, ts)) {
        todo_rlog(r, APLOG_ERR, 0, 0303, "task column %s: unexpected "
                  "timestamp \"%.64s\" from the database (not DateStyle "
                  "ISO, or out of range)", name, v);
        return -1;
    }
    *out = ts;
    return 0;
}

/* Read a task from the current row, whose columns start at `first`.
 * 0, or -1 (logged) when a timestamp cannot be read: answer 500. */
static int row_task(request_rec *r, const todo_rows_t *rows, int first,
                    todo_task_t *t)
{
    const char *v;

    t->id = todo_dbd_col(rows, first + TODO_COL_ID);
    t->user_id = todo_dbd_col(rows, first + TODO_COL_USER_ID);
    t->title = todo_dbd_col(rows, first + TODO_COL_TITLE);
    t->description = todo_dbd_col(rows, first + TODO_COL_DESCRIPTION);
    v = todo_dbd_col(rows, first + TODO_COL_COMPLETED);
    t->completed = v && *v == 't';
    v = todo_dbd_col(rows, first + TODO_COL_PRIORITY);
    t->priority = v ? atoi(v) : 0;
    v = todo_dbd_col(rows, first + TODO_COL_VERSION);
    t->version = v ? apr_atoi64(v) : 0;
    if (row_time(r, rows, first + TODO_COL_COMPLETED_AT, "completed_at",
                 &t->completed_at)
        || row_time(r, rows, first + TODO_COL_DUE_AT, "due_at", &t->due_at)
        || row_time(r, rows, first + TODO_COL_CREATED_AT, "created_at",
                    &t->created_at)
        || row_time(r, rows, first + TODO_COL_UPDATED_AT, "updated_at",
                    &t->updated_at)) {
        return -1;
    }
    return 0;
}

static void set_etag(request_rec *r, const todo_task_t *t)
{
    char etag[32];

    todo_util_etag_write(etag, t->version);
    apr_table_set(r->headers_out, "ETag", etag);
}

/* 200/201 with one task, its ETag, and private caching only. */
static int send_task(request_rec *r, const todo_task_t *t, int status)
{
    todo_buf_t b;

    set_etag(r, t);
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    data_begin(r, &b, 640);
    todo_json_task(&b, t);
    return data_end(r, &b, status);
}

/* No such task for this user.  With "TodoForeignTaskStatus 403", say so
 * when the id is another user's task. */
static int not_found(request_rec *r, todo_req_t *q, const char *id)
{
    todo_rows_t rows;

    if (todo_cfg_foreign_status(q->cfg) == HTTP_FORBIDDEN
        && todo_dbd_run(r, TODO_STMT_FOREIGN,
                        todo_sql_args_foreign(r->pool, r->user, id), 1,
                        &rows) == OK
        && rows.nrows > 0) {
        return send_error(r, HTTP_FORBIDDEN,
                          "the task belongs to another user", NULL);
    }
    return send_error(r, HTTP_NOT_FOUND, "no such task", NULL);
}

static int list_tasks(request_rec *r, todo_req_t *q)
{
    apr_array_header_t *details = apr_array_make(r->pool, 2,
                                                 sizeof(todo_detail_t));
    todo_list_query_t lq;
    todo_rows_t rows;
    todo_buf_t b;
    const char *total = "0";
    int i, st;

    if (todo_query_parse(r->pool, r->args, todo_cfg_page_default(q->cfg),
                         todo_cfg_page_max(q->cfg), &lq, details)) {
        return send_error(r, HTTP_BAD_REQUEST, "invalid query parameters",
                          details);
    }
    st = todo_dbd_run(r, todo_sql_list_stmt(&lq),
                      todo_sql_args_list(r->pool, r->user, &lq), 1, &rows);
    if (st != OK) {
        return send_db_error(r, st);
    }
    data_begin(r, &b, 512 + (apr_size_t)rows.nrows * 420);
    todo_buf_puts(&b, "{\"tasks\":[");
    for (i = 0; i < rows.nrows && todo_dbd_row(r, &rows, i) == 0; i++) {
        todo_task_t t;

        total = todo_dbd_col(&rows, 0);
        if (!todo_dbd_col(&rows, 1)) {
            break;                 /* the empty page's lone total row */
        }
        if (row_task(r, &rows, 1, &t)) {
            return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
        }
        if (i) {
            todo_buf_putc(&b, ',');
        }
        todo_json_task(&b, &t);
    }
    todo_buf_printf(&b, "],\"total\":%s,\"limit\":%d,\"offset\":%ld}",
                    total ? total : "0", lq.limit, lq.offset);
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    return data_end(r, &b, HTTP_OK);
}

static int create_task(request_rec *r, todo_req_t *q)
{
    todo_task_input_t in;
    todo_rows_t rows;
    todo_task_t t;
    int st;

    if ((st = task_body(r, q, TODO_BODY_CREATE, &in, NULL)) != OK) {
        return task_done(st);
    }
    st = todo_dbd_run(r, TODO_STMT_CREATE,
                      todo_sql_args_create(r->pool, r->user, &in), 0, &rows);
    if (st != OK) {
        return send_db_error(r, st);
    }
    if (todo_dbd_row(r, &rows, 0) || row_task(r, &rows, 0, &t)) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, q->cfg->prefix, "/v1/tasks/", t.id,
                               NULL));
    return send_task(r, &t, HTTP_CREATED);
}

static int get_task(request_rec *r, todo_req_t *q, const char *id)
{
    todo_rows_t rows;
    todo_task_t t;
    int st = todo_dbd_run(r, TODO_STMT_GET,
                          todo_sql_args_get(r->pool, r->user, id), 1, &rows);

    if (st != OK) {
        return send_db_error(r, st);
    }
    if (todo_dbd_row(r, &rows, 0)) {
        return not_found(r, q, id);
    }
    if (row_task(r, &rows, 0, &t)) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    if (todo_util_if_none_match(apr_table_get(r->headers_in,
                                              "If-None-Match"), t.version)) {
        set_etag(r, &t);
        return send_empty(r, HTTP_NOT_MODIFIED);
    }
    return send_task(r, &t, HTTP_OK);
}

/* PUT, PATCH and PATCH .../complete: one statement, guarded by If-Match.
 * `in` NULL with toggle=1 flips "completed". */
static int update_task(request_rec *r, todo_req_t *q, const char *id,
                       const todo_task_input_t *in, int toggle)
{
    const char *vers = todo_util_if_match_versions(
        r->pool, apr_table_get(r->headers_in, "If-Match"));
    todo_rows_t rows;
    todo_task_t t;
    int st = todo_dbd_run(r, TODO_STMT_UPDATE,
                          todo_sql_args_update(r->pool, r->user, id, vers,
                                               in, toggle), 0, &rows);

    if (st != OK) {
        return send_db_error(r, st);
    }
    if (todo_dbd_row(r, &rows, 0)) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    if (!todo_dbd_col(&rows, 1 + TODO_COL_ID)) {
        /* Nothing updated: absent, or present with another version. */
        const char *found = todo_dbd_col(&rows, 0);

        if (vers && found && strcmp(found, "0")) {
            return send_error(r, HTTP_PRECONDITION_FAILED, "the task has "
                              "changed: If-Match does not match its ETag",
                              NULL);
        }
        return not_found(r, q, id);
    }
    if (row_task(r, &rows, 1, &t)) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    return send_task(r, &t, HTTP_OK);
}

static int write_task(request_rec *r, todo_req_t *q, const char *id,
                      todo_body_kind_e kind)
{
    todo_task_input_t in;
    int has_body = 1;
    int st = task_body(r, q, kind, &in,
                       kind == TODO_BODY_COMPLETE ? &has_body : NULL);

    if (st != OK) {
        return task_done(st);
    }
    return update_task(r, q, id, has_body ? &in : NULL, !has_body);
}

static int delete_task(request_rec *r, todo_req_t *q, const char *id)
{
    const char *vers = todo_util_if_match_versions(
        r->pool, apr_table_get(r->headers_in, "If-Match"));
    todo_rows_t rows;
    const char *found;
    int st = todo_dbd_run(r, TODO_STMT_DELETE,
                          todo_sql_args_delete(r->pool, r->user, id, vers),
                          0, &rows);

    if (st != OK) {
        return send_db_error(r, st);
    }
    if (todo_dbd_row(r, &rows, 0)) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    found = todo_dbd_col(&rows, 0);
    if (strcmp(todo_dbd_col(&rows, 1), "0")) {
        return send_empty(r, HTTP_NO_CONTENT);
    }
    if (vers && found && strcmp(found, "0")) {
        return send_error(r, HTTP_PRECONDITION_FAILED, "the task has "
                          "changed: If-Match does not match its ETag", NULL);
    }
    return not_found(r, q, id);
}

static int one_task(request_rec *r, todo_req_t *q)
{
    const char *id = q->route.task_id;

    if (!todo_util_is_uuid(id)) {
        return send_error(r, HTTP_UNPROCESSABLE_ENTITY,
                          "the task id is not a UUID", NULL);
    }
    id = apr_pstrdup(r->pool, id);
    ap_str_tolower((char *)id);
    if (q->route.route == TODO_ROUTE_TASK_COMPLETE) {
        return write_task(r, q, id, TODO_BODY_COMPLETE);
    }
    switch (q->method) {
    case TODO_M_GET:
    case TODO_M_HEAD:
        return get_task(r, q, id);
    case TODO_M_PUT:
        return write_task(r, q, id, TODO_BODY_REPLACE);
    case TODO_M_PATCH:
        return write_task(r, q, id, TODO_BODY_PATCH);
    default:
        return delete_task(r, q, id);
    }
}

static int tasks(request_rec *r, todo_req_t *q)
{
    if (!r->user) {
        /* The access checker always sets a user for these routes; getting
         * here without one means another module bypassed it. */
        todo_rlog(r, APLOG_ERR, 0, 0301, "task route reached without an "
                  "authenticated user; refusing");
        return send_error(r, HTTP_UNAUTHORIZED, "authentication required",
                          NULL);
    }
    if (q->route.user && strcmp(q->route.user, r->user)) {
        return send_error(r, HTTP_FORBIDDEN, "the user in the path is not "
                          "the authenticated user", NULL);
    }
    if (q->route.route == TODO_ROUTE_TASKS) {
        return q->method == TODO_M_POST ? create_task(r, q)
                                        : list_tasks(r, q);
    }
    return one_task(r, q);
}

/* ---------------------------------------------------- the other routes */

static int health(request_rec *r)
{
    char ts[TODO_UTIL_TS_LEN];
    todo_rows_t rows;
    todo_buf_t b;
    int st = todo_dbd_run(r, TODO_STMT_HEALTH, NULL, 1, &rows);

    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (st != OK) {
        /* Whatever failed, the answer is "try again later". */
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        if (!apr_table_get(r->err_headers_out, "Retry-After")) {
            apr_table_setn(r->err_headers_out, "Retry-After", "1");
        }
        return send_error(r, HTTP_SERVICE_UNAVAILABLE,
                          "the database is unavailable", NULL);
    }
    todo_util_format_time(ts, apr_time_now());
    data_begin(r, &b, 256);
    todo_buf_printf(&b, "{\"status\":\"healthy\",\"database\":\"up\","
                    "\"timestamp\":\"%s\"}", ts);
    return data_end(r, &b, HTTP_OK);
}

/* The OpenAPI document, with "servers" pointing at this location. */
static int openapi(request_rec *r, todo_req_t *q)
{
    todo_buf_t b;

    todo_buf_init(&b, r->pool, strlen(todo_openapi_doc) + 128);
    todo_buf_puts(&b, "{\"servers\":[{\"url\":");
    todo_buf_json_string(&b, *q->cfg->prefix ? q->cfg->prefix : "/");
    todo_buf_puts(&b, "}],");
    todo_buf_puts(&b, todo_openapi_doc + 1);    /* past its "{" */
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    return send_json(r, HTTP_OK, &b);
}

/* OPTIONS: a CORS preflight from an allowed origin gets the full set of
 * Access-Control-* headers; anything else just learns the methods. */
static int options(request_rec *r, todo_req_t *q)
{
    const char *allow = todo_route_allow_header(q->route.route);

    apr_table_setn(r->headers_out, "Allow", allow);
    if (q->origin && apr_table_get(r->headers_in,
                                   "Access-Control-Request-Method")) {
        apr_table_setn(r->headers_out, "Access-Control-Allow-Methods", allow);
        apr_table_setn(r->headers_out, "Access-Control-Allow-Headers",
                       CORS_ALLOW_HEADERS);
        apr_table_setn(r->headers_out, "Access-Control-Max-Age",
                       CORS_MAX_AGE);
    }
    return send_empty(r, HTTP_NO_CONTENT);
}

int todo_api_handler(request_rec *r)
{
    todo_req_t *q;

    if (!r->handler || strcmp(r->handler, TODO_HANDLER)) {
        return DECLINED;
    }
    q = todo_req_get(r);
    if (!q) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TODOLOG(0302)
                      "SetHandler todo outside a <Location> mod_todo set "
                      "up at startup; see the README");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (q->route.route == TODO_ROUTE_NONE || todo_docs_off(q)) {
        return send_error(r, HTTP_NOT_FOUND, "no such route", NULL);
    }
    if (!(todo_route_allowed(q->route.route) & q->method)) {
        apr_table_setn(r->err_headers_out, "Allow",
                       todo_route_allow_header(q->route.route));
        return send_error(r, HTTP_METHOD_NOT_ALLOWED, apr_psprintf(r->pool,
                          "%s is not allowed here", r->method), NULL);
    }
    switch (q->method == TODO_M_OPTIONS ? TODO_ROUTE_NONE : q->route.route) {
    case TODO_ROUTE_NONE:
        return options(r, q);
    case TODO_ROUTE_HEALTH:
        return health(r);
    case TODO_ROUTE_OPENAPI:
        return openapi(r, q);
    case TODO_ROUTE_DOCS:
    case TODO_ROUTE_DOCS_INIT:
        return todo_docs_handler(r, q);
    default:
        return tasks(r, q);
    }
}
