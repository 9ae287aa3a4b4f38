/* The content handler of "SetHandler todo", and the filter that answers
 * httpd's own errors under a todo location with the JSON envelope. */
#include <apr_strings.h>
#include <apr_lib.h>
#include <util_filter.h>

#include "mod_todo_api.h"
#include "todo_buf.h"
#include "todo_changes.h"
#include "todo_cursor.h"
#include "todo_docs.h"
#include "todo_idem.h"
#include "todo_json.h"
#include "todo_metrics.h"
#include "todo_query.h"
#include "todo_sql.h"
#include "todo_text.h"
#include "todo_time.h"
#include "todo_etag.h"

extern const char todo_openapi_doc[];

#define CORS_ALLOW_HEADERS \
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key"
#define CORS_MAX_AGE "600"

/* ----------------------------------------------------------- responses */

static void meta_of(request_rec *r, todo_meta_t *m, char *ts)
{
    todo_time_format(ts, apr_time_now());
    m->request_id = todo_req_id(r);
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
    todo_req_headers(r, q);
}

/* Write a JSON error envelope for status into b (for the handler, and
 * for the filter that turns httpd's own error pages into JSON). */
static void error_body(request_rec *r, todo_buf_t *b, int status,
                       const char *code, const char *message,
                       const apr_array_header_t *details)
{
    char ts[TODO_TIME_LEN];
    todo_meta_t m;

    error_headers(r);
    meta_of(r, &m, ts);
    todo_json_error(b, code ? code : todo_json_status_code(status),
                    message ? message : todo_json_status_message(status),
                    details, &m);
}

/* A refusal before the request body was read closes the connection
 * instead of waiting for (and discarding) a body the client may never
 * finish sending: a worker is not held until httpd's read timeout. */
static void close_if_body_unread(request_rec *r, int status)
{
    todo_req_t *q = todo_req_get(r);

    if (status >= 400 && q && !q->body_read && ap_request_has_body(r)) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
}

/* Send b as the whole response body. */
static int send_json(request_rec *r, int status, todo_buf_t *b)
{
    close_if_body_unread(r, status);
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
    error_body(r, &b, status, NULL, message, details);
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
    char ts[TODO_TIME_LEN];
    todo_meta_t m;

    meta_of(r, &m, ts);
    todo_json_data_end(b, &m);
    return send_json(r, status, b);
}

/* A database failure already chose its status (and Retry-After). */
static int send_db_error(request_rec *r, int status)
{
    const char *msg = status == HTTP_SERVICE_UNAVAILABLE
                          ? "the database is unavailable, try again shortly"
                          : NULL;

    return send_error(r, status, msg, NULL);
}

/* -------------------------------------------------------- request body */

static int json_type(request_rec *r)
{
    return todo_text_is_json_type(
        apr_table_get(r->headers_in, "Content-Type"));
}

/* A body comes as it is: decoding gzip or deflate is not the API's job,
 * and taking such a body for JSON would only fail later, less clearly. */
static int identity_encoding(request_rec *r)
{
    const char *ce = apr_table_get(r->headers_in, "Content-Encoding");

    return !ce || !strcasecmp(ce, "identity");
}

/* Read the whole body, refusing more than the configured limit without
 * trusting Content-Length (a chunked body has none, a lying client can
 * send more).  *body is NULL when the request has no body (an empty
 * chunked one included). */
static int read_body(request_rec *r, todo_req_t *q, const char **body,
                     apr_size_t *len)
{
    apr_off_t limit = q->site->max_body;
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    todo_buf_t b;
    int eos = 0;

    *body = NULL;
    *len = 0;
    if (!ap_request_has_body(r)) {
        q->body_read = 1;
        return OK;
    }
    if (!identity_encoding(r)) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
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
        apr_status_t rv =
            ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                           APR_BLOCK_READ, HUGE_STRING_LEN);

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
            if (apr_bucket_read(e, &data, &n, APR_BLOCK_READ) != APR_SUCCESS) {
                return HTTP_BAD_REQUEST;
            }
            if ((apr_off_t)(b.len + n) > limit) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            todo_buf_append(&b, data, n);
        }
        apr_brigade_cleanup(bb);
    }
    q->body_read = 1;
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
        return send_error(r, status,
                          apr_psprintf(r->pool,
                                       "request body exceeds %" APR_OFF_T_FMT
                                       " bytes",
                                       todo_req_get(r)->site->max_body),
                          NULL);
    }
    if (status == HTTP_UNSUPPORTED_MEDIA_TYPE) {
        return send_error(r, status,
                          identity_encoding(r)
                              ? "request body must be application/json"
                              : "request body must not be encoded "
                                "(Content-Encoding): send plain JSON",
                          NULL);
    }
    return send_error(r, status, NULL, NULL);
}

/* A task body, read and validated. */
typedef struct {
    const char *body; /* NULL: the request had none */
    apr_size_t len;
    int status; /* 0, or the 400 or 422 of its validation, not yet sent */
    const char *message;
    apr_array_header_t *details;
} task_body_t;

/* Read and validate a task body of the given kind (optional: a request
 * without a body is fine, as the toggle of complete is).  Returns OK with
 * *tb -- valid, or with the problems to answer; DONE when the response
 * was sent (413, 415: decided by the headers or the size, before the body
 * was understood); AP_FILTER_ERROR when httpd's input filter met a
 * malformed body (bad chunking) and already answered it, so that nothing
 * more may be sent (a second response would replace the first one's
 * headers, X-Request-Id and CORS among them).  The handler returns what
 * task_done() makes of it. */
static int task_body(request_rec *r, todo_req_t *q, todo_body_kind_e kind,
                     todo_task_input_t *in, int optional, task_body_t *tb)
{
    int st = read_body(r, q, &tb->body, &tb->len);

    tb->status = 0;
    tb->message = NULL;
    tb->details = apr_array_make(r->pool, 2, sizeof(todo_detail_t));
    if (st == AP_FILTER_ERROR) {
        return st;
    }
    if (st != OK) {
        body_error(r, st);
        return DONE;
    }
    if (optional && !tb->body) {
        return OK;
    }
    tb->status = todo_task_parse(r->pool, tb->body ? tb->body : "", tb->len,
                                 kind, in, tb->details, &tb->message);
    return OK;
}

/* What the handler returns once task_body() did not return OK. */
static int task_done(int st)
{
    return st == AP_FILTER_ERROR ? st : OK;
}

/* A 400 naming one query parameter or header. */
static int bad_field(request_rec *r, int status, const char *message,
                     const char *field, const char *problem)
{
    apr_array_header_t *details =
        apr_array_make(r->pool, 1, sizeof(todo_detail_t));
    todo_detail_t *d = apr_array_push(details);

    d->field = field;
    d->message = problem;
    return send_error(r, status, message, details);
}

/* ------------------------------------------------------------- tasks */

#define MSG_NO_TASK "no such task"
#define MSG_CHANGED "the task has changed: If-Match does not match its ETag"
#define MSG_FOREIGN "the task belongs to another user"

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
    ts = apr_palloc(r->pool, TODO_TIME_LEN);
    if (todo_time_from_pg(v, ts)) {
        todo_rlog(r, APLOG_ERR, 0, 0303,
                  "task column %s: unexpected "
                  "timestamp \"%.64s\" from the database (not DateStyle "
                  "ISO, or out of range)",
                  name, v);
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

    todo_etag_write(etag, t->version);
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

    if (q->site->foreign_status == HTTP_FORBIDDEN
        && todo_dbd_run(r, TODO_STMT_FOREIGN,
                        todo_sql_args_foreign(r->pool, r->user, id), 1, &rows)
               == OK
        && rows.nrows > 0) {
        return send_error(r, HTTP_FORBIDDEN, MSG_FOREIGN, NULL);
    }
    return send_error(r, HTTP_NOT_FOUND, MSG_NO_TASK, NULL);
}

/* ------------------------------------------------ Idempotency-Key */

#define IDEM_HEADER "Idempotency-Key"

/* A write's Idempotency-Key (docs/api.md §9); key NULL when the request
 * has none.  Every answer the write may store is made here with one meta
 * (this request's id and time), so that a replay repeats it byte for
 * byte. */
typedef struct {
    const char *key;
    todo_idem_args_t a;
    todo_meta_t meta;
    char ts[TODO_TIME_LEN];
} idem_t;

/* Read the Idempotency-Key of a write.  OK, or DONE when it was malformed
 * and answered: a 400 naming the header, not stored (it says nothing of
 * the write, and a repeat gets the same answer anyway). */
static int idem_begin(request_rec *r, todo_req_t *q, idem_t *ik)
{
    const char *v = apr_table_get(r->headers_in, IDEM_HEADER), *why;
    todo_buf_t b;

    memset(ik, 0, sizeof(*ik));
    if (!v) {
        return OK;
    }
    if (todo_idem_parse_key(r->pool, v, &ik->key, &why)) {
        todo_rlog(r, APLOG_INFO, 0, 0305, "Idempotency-Key refused: %s", why);
        bad_field(r, HTTP_BAD_REQUEST, "invalid Idempotency-Key header",
                  IDEM_HEADER, why);
        return DONE;
    }
    meta_of(r, &ik->meta, ik->ts);
    ik->a.key = ik->key;
    ik->a.request_id = ik->meta.request_id;
    ik->a.retention = q->site->idem_retention;
    todo_buf_init(&b, r->pool, 16);
    todo_json_data_begin(&b);
    ik->a.head = todo_buf_cstr(&b);
    todo_buf_init(&b, r->pool, 128);
    todo_json_data_end(&b, &ik->meta);
    ik->a.tail = todo_buf_cstr(&b);
    return OK;
}

/* The fingerprint, once the body is known: 0, or -1 (answer 500). */
static int idem_fingerprint(request_rec *r, todo_req_t *q, idem_t *ik,
                            const char *id, const task_body_t *tb)
{
    ik->a.fingerprint = todo_idem_fingerprint(
        r->pool, r->method, todo_route_op_name(q->route.op), id,
        tb ? tb->body : NULL, tb ? tb->len : 0);
    return ik->a.fingerprint ? 0 : -1;
}

/* An error envelope with the key's meta, for the statement to store. */
static const char *idem_error(request_rec *r, const idem_t *ik, int status,
                              const char *message,
                              const apr_array_header_t *details)
{
    todo_buf_t b;

    todo_buf_init(&b, r->pool, 256);
    todo_json_error(&b, todo_json_status_code(status), message, details,
                    &ik->meta);
    return todo_buf_cstr(&b);
}

/* 409: another request with the key is running; nothing was done. */
static int idem_busy(request_rec *r)
{
    todo_rlog(r, APLOG_INFO, 0, 0305,
              "Idempotency-Key: a request with the same key is still "
              "being processed: 409");
    apr_table_setn(r->headers_out, "Retry-After", "1");
    return bad_field(r, HTTP_CONFLICT,
                     "a request with this Idempotency-Key is still being "
                     "processed; send it again shortly",
                     IDEM_HEADER, "is in use by a request still running");
}

/* Send the answer of a keyed statement's row: what it decided and stored,
 * or the stored answer of the key's first request (replayed). */
static int send_answer(request_rec *r, const todo_rows_t *rows, int replayed)
{
    int status = atoi(todo_dbd_col(rows, TODO_IDEM_COL_STATUS));
    const char *etag = todo_dbd_col(rows, TODO_IDEM_COL_ETAG);
    const char *loc = todo_dbd_col(rows, TODO_IDEM_COL_LOCATION);
    const char *body = todo_dbd_col(rows, TODO_IDEM_COL_BODY);
    todo_buf_t b;

    if (etag) {
        apr_table_set(r->headers_out, "ETag", etag);
    }
    if (loc) {
        apr_table_set(r->headers_out, "Location", loc);
    }
    if (status == HTTP_OK || status == HTTP_CREATED) {
        apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    }
    if (replayed) {
        apr_table_setn(r->headers_out, "Idempotent-Replayed", "true");
    }
    if (!body) {
        return send_empty(r, status);
    }
    todo_buf_init(&b, r->pool, 0);
    b.data = (char *)body;
    b.len = strlen(body);
    return send_json(r, status, &b);
}

/* Run a keyed statement (todo_sql.c: IDEM_GATE) and answer what it says:
 * its own answer (stored with its write), the key's stored answer again,
 * 422 for a key used with another request, 409 while that one runs. */
static int idem_run(request_rec *r, todo_req_t *q, idem_t *ik,
                    todo_stmt_e which, const char **args)
{
    todo_rows_t rows;
    const char *outcome;
    int st = todo_dbd_run(r, which, args, 0, &rows);

    (void)q;
    if (st == HTTP_CONFLICT) {
        /* The key's answer could not be stored, so this statement's
         * write was rolled back with it: another request with the key
         * stored its answer after this statement's snapshot was taken --
         * read it -- or an expired answer of the key is still there --
         * delete it and run the write again, once. */
        st = todo_dbd_run(r, TODO_STMT_IDEM_GET,
                          todo_sql_args_idem_get(r->pool, r->user, &ik->a), 1,
                          &rows);
        if (st == OK && rows.nrows == 0) {
            st = todo_dbd_run(
                r, TODO_STMT_IDEM_EXPIRE,
                todo_sql_args_idem_expire(r->pool, r->user, &ik->a), 0, &rows);
            if (st == OK) {
                st = todo_dbd_run(r, which, args, 0, &rows);
            }
            if (st == HTTP_CONFLICT) {
                return idem_busy(r);
            }
        }
    }
    if (st != OK) {
        return send_db_error(r, st);
    }
    if (todo_dbd_row(r, &rows, 0)
        || !(outcome = todo_dbd_col(&rows, TODO_IDEM_COL_OUTCOME))
        || (strcmp(outcome, "mismatch") && strcmp(outcome, "busy")
            && !todo_dbd_col(&rows, TODO_IDEM_COL_STATUS))) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    if (!strcmp(outcome, "replay")) {
        todo_rlog(r, APLOG_DEBUG, 0, 0304,
                  "Idempotency-Key: replayed the answer of request %s",
                  todo_dbd_col(&rows, TODO_IDEM_COL_REQUEST_ID));
        todo_metrics_idempotent_replay();
        return send_answer(r, &rows, 1);
    }
    if (!strcmp(outcome, "mismatch")) {
        todo_rlog(r, APLOG_INFO, 0, 0305,
                  "Idempotency-Key: the key of request %s used for another "
                  "request: 422",
                  todo_dbd_col(&rows, TODO_IDEM_COL_REQUEST_ID));
        return bad_field(r, HTTP_UNPROCESSABLE_ENTITY,
                         "the Idempotency-Key was used for another request",
                         IDEM_HEADER,
                         "was used with another method, route, task or "
                         "body");
    }
    if (!strcmp(outcome, "busy")) {
        return idem_busy(r);
    }
    return send_answer(r, &rows, 0);
}

/* A body that failed validation: answer it -- stored with the key, if
 * any, like every answer the write's content decides. */
static int bad_body(request_rec *r, todo_req_t *q, idem_t *ik,
                    const task_body_t *tb)
{
    if (!ik->key) {
        return send_error(r, tb->status, tb->message, tb->details);
    }
    return idem_run(
        r, q, ik, TODO_STMT_IDEM_STORE,
        todo_sql_args_idem_store(
            r->pool, r->user, tb->status,
            idem_error(r, ik, tb->status, tb->message, tb->details), &ik->a));
}

/* The error answers a keyed update or delete may store. */
static void idem_task_errors(request_rec *r, todo_req_t *q, idem_t *ik)
{
    ik->a.b404 = idem_error(r, ik, HTTP_NOT_FOUND, MSG_NO_TASK, NULL);
    ik->a.b412 =
        idem_error(r, ik, HTTP_PRECONDITION_FAILED, MSG_CHANGED, NULL);
    ik->a.b403 = q->site->foreign_status == HTTP_FORBIDDEN
                     ? idem_error(r, ik, HTTP_FORBIDDEN, MSG_FOREIGN, NULL)
                     : NULL;
}

/* ------------------------------------------------------------- lists */

/* The token key, fetched once per request when first needed. */
static int token_key(request_rec *r, todo_token_key_t *key, int *have)
{
    int st;

    if (*have) {
        return OK;
    }
    st = todo_secret_get(r, key);
    *have = st == OK;
    return st;
}

static int list_tasks(request_rec *r, todo_req_t *q)
{
    apr_array_header_t *details =
        apr_array_make(r->pool, 2, sizeof(todo_detail_t));
    todo_list_query_t lq;
    todo_cursor_t cur = { NULL, NULL };
    todo_token_key_t key;
    todo_rows_t rows;
    todo_buf_t b;
    const char *total = "0", *last_key = NULL, *last_id = NULL;
    const char *next = NULL;
    int i, st, have_key = 0, more = 0;

    if (todo_query_parse(r->pool, r->args, q->site->page_default,
                         q->site->page_max, &lq, details)) {
        return send_error(r, HTTP_BAD_REQUEST, "invalid query parameters",
                          details);
    }
    if (lq.cursor) {
        if ((st = token_key(r, &key, &have_key)) != OK) {
            return send_db_error(r, st);
        }
        st = todo_cursor_open(r->pool, &key, r->user, &lq, &cur);
        if (st != TODO_CURSOR_OK) {
            const char *why =
                st == TODO_CURSOR_ALTERED
                    ? "is not a next_cursor this API gave this user"
                    : "was made for another sort or other filters";

            todo_rlog(r, APLOG_INFO, 0, 0306, "cursor refused: %s", why);
            return bad_field(r, HTTP_BAD_REQUEST, "invalid query parameters",
                             "cursor", why);
        }
    }
    st = todo_dbd_run(
        r, todo_sql_list_stmt(&lq),
        todo_sql_args_list(r->pool, r->user, &lq, cur.key, cur.id), 1, &rows);
    if (st != OK) {
        return send_db_error(r, st);
    }
    data_begin(r, &b, 640 + (apr_size_t)rows.nrows * 420);
    todo_buf_puts(&b, "{\"tasks\":[");
    for (i = 0; i < rows.nrows && todo_dbd_row(r, &rows, i) == 0; i++) {
        todo_task_t t;

        total = todo_dbd_col(&rows, 0);
        if (!todo_dbd_col(&rows, 1)) {
            break; /* the empty page's lone total row */
        }
        if (i == lq.limit) {
            more = 1; /* the statement's extra row: a next page exists */
            break;
        }
        if (row_task(r, &rows, 1, &t)) {
            return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
        }
        if (i) {
            todo_buf_putc(&b, ',');
        }
        todo_json_task(&b, &t);
        last_key = todo_dbd_col(&rows, 1 + TODO_COL_COUNT);
        last_id = t.id;
    }
    if (more) {
        if ((st = token_key(r, &key, &have_key)) != OK) {
            return send_db_error(r, st);
        }
        next =
            todo_cursor_make(r->pool, &key, r->user, &lq, last_key, last_id);
        if (!next) {
            return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
        }
        apr_table_set(r->headers_out, "Link",
                      apr_psprintf(r->pool, "<%s?%s>; rel=\"next\"",
                                   todo_route_path(r->pool, q->site->prefix,
                                                   TODO_ROUTE_TASKS),
                                   todo_query_next(r->pool, &lq, next)));
    }
    todo_buf_printf(&b, "],\"total\":%s,\"limit\":%d,\"offset\":%ld,",
                    total ? total : "0", lq.limit, lq.offset);
    todo_buf_puts(&b, "\"next_cursor\":");
    if (next) {
        todo_buf_json_string(&b, next);
    }
    else {
        todo_buf_puts(&b, "null");
    }
    todo_buf_putc(&b, '}');
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    return data_end(r, &b, HTTP_OK);
}

/* ----------------------------------------------------- the changes feed */

/* 410: the token may predate a pruned tombstone. */
static int sync_gone(request_rec *r, const char *why)
{
    todo_rlog(r, APLOG_INFO, 0, 0306, "sync token refused: %s", why);
    return send_error(r, HTTP_GONE,
                      "the sync token is older than the tombstone "
                      "retention: sync again without since",
                      NULL);
}

/* GET .../changes (docs/api.md §10, todo_changes.h). */
static int changes(request_rec *r, todo_req_t *q)
{
    apr_array_header_t *details =
        apr_array_make(r->pool, 2, sizeof(todo_detail_t));
    apr_int64_t now = apr_time_sec(apr_time_now()), pos_xid;
    todo_changes_query_t cq;
    todo_token_key_t key;
    todo_sync_t t;
    todo_rows_t rows;
    todo_buf_t b;
    const char *pos_id, *gone, *token;
    int i, st, n = 0, more = 0;

    if (todo_query_parse_changes(r->pool, r->args, q->site->page_default,
                                 q->site->page_max, &cq, details)) {
        return send_error(r, HTTP_BAD_REQUEST, "invalid query parameters",
                          details);
    }
    if ((st = todo_secret_get(r, &key)) != OK) {
        return send_db_error(r, st);
    }
    memset(&t, 0, sizeof(t));
    t.full = 1;
    if (cq.since && todo_changes_open(r->pool, &key, r->user, cq.since, &t)) {
        todo_rlog(r, APLOG_INFO, 0, 0306,
                  "sync token refused: not one this API gave this user");
        return bad_field(r, HTTP_BAD_REQUEST, "invalid query parameters",
                         "since",
                         "is not a next_token this API gave this user");
    }
    /* A token's age: since its sync's first snapshot (a full sync's too:
     * the token it ends with is that old). */
    if (cq.since
        && now - (t.full ? t.upto_time : t.since_time)
               > q->site->tomb_retention) {
        return sync_gone(r, "older than TodoTombstoneRetention");
    }
    todo_changes_position(&t, &pos_xid, &pos_id);
    st =
        todo_dbd_run(r, TODO_STMT_CHANGES,
                     todo_sql_args_changes(
                         r->pool, r->user,
                         t.full ? NULL : todo_snapshot_text(r->pool, &t.since),
                         t.more ? todo_snapshot_text(r->pool, &t.upto) : NULL,
                         pos_xid, pos_id, cq.limit),
                     1, &rows);
    if (st != OK) {
        return send_db_error(r, st);
    }
    if (todo_dbd_row(r, &rows, 0)) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    gone = todo_dbd_col(&rows, TODO_CHANGES_COL_GONE);
    if (gone && *gone == 't') {
        return sync_gone(r, "a tombstone it needs was pruned");
    }
    if (!t.more) {
        /* The first page: its statement's snapshot bounds the sync. */
        if (todo_snapshot_parse(r->pool,
                                todo_dbd_col(&rows, TODO_CHANGES_COL_UPTO),
                                &t.upto)) {
            todo_rlog(r, APLOG_ERR, 0, 0307,
                      "unexpected snapshot \"%.64s\" from the database",
                      todo_dbd_col(&rows, TODO_CHANGES_COL_UPTO));
            return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
        }
        todo_snapshot_bound(&t.upto);
        t.upto_time = now;
    }
    data_begin(r, &b, 256 + (apr_size_t)rows.nrows * 420);
    todo_buf_puts(&b, "{\"changes\":[");
    for (i = 0; i < rows.nrows && todo_dbd_row(r, &rows, i) == 0; i++) {
        const char *kind = todo_dbd_col(&rows, TODO_CHANGES_COL_KIND);
        const int first = TODO_CHANGES_COL_TASK;

        if (!kind) {
            break; /* an empty page */
        }
        if (n == cq.limit) {
            more = 1;
            break;
        }
        if (n++) {
            todo_buf_putc(&b, ',');
        }
        if (*kind == 't') {
            todo_task_t task;

            if (row_task(r, &rows, first, &task)) {
                return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
            }
            todo_json_task(&b, &task);
        }
        else {
            const char *at;

            if (row_time(r, &rows, TODO_CHANGES_COL_DELETED_AT, "deleted_at",
                         &at)
                || !at) {
                return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
            }
            todo_changes_json_tombstone(
                &b, todo_dbd_col(&rows, first + TODO_COL_ID), at);
        }
        t.pos_xid = apr_atoi64(todo_dbd_col(&rows, TODO_CHANGES_COL_XID));
        t.pos_id = todo_dbd_col(&rows, first + TODO_COL_ID);
    }
    if (more) {
        t.more = 1;
    }
    else {
        /* Up to date: the next sync asks for what upto did not see. */
        t.full = 0;
        t.more = 0;
        t.since = t.upto;
        t.since_time = t.upto_time;
    }
    token = todo_changes_token(r->pool, &key, r->user, &t);
    if (!token) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    todo_buf_puts(&b, "],\"next_token\":");
    todo_buf_json_string(&b, token);
    todo_buf_printf(&b, ",\"has_more\":%s}", more ? "true" : "false");
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    return data_end(r, &b, HTTP_OK);
}

/* ------------------------------------------------- the task operations */

static int create_task(request_rec *r, todo_req_t *q)
{
    todo_task_input_t in;
    task_body_t tb;
    todo_rows_t rows;
    todo_task_t t;
    idem_t ik;
    int st;

    if (idem_begin(r, q, &ik) != OK) {
        return OK;
    }
    if ((st = task_body(r, q, TODO_BODY_CREATE, &in, 0, &tb)) != OK) {
        return task_done(st);
    }
    if (ik.key && idem_fingerprint(r, q, &ik, NULL, &tb)) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    if (tb.status) {
        return bad_body(r, q, &ik, &tb);
    }
    if (ik.key) {
        return idem_run(r, q, &ik, TODO_STMT_CREATE_IDEM,
                        todo_sql_args_create_idem(
                            r->pool, r->user, &in,
                            todo_route_task_path(r->pool, q->site->prefix, ""),
                            &ik.a));
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
                   todo_route_task_path(r->pool, q->site->prefix, t.id));
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
    if (todo_etag_none_match(apr_table_get(r->headers_in, "If-None-Match"),
                             t.version)) {
        set_etag(r, &t);
        return send_empty(r, HTTP_NOT_MODIFIED);
    }
    return send_task(r, &t, HTTP_OK);
}

/* PUT, PATCH and PATCH .../complete: one statement, guarded by If-Match.
 * `in` NULL with toggle=1 flips "completed". */
static int update_task(request_rec *r, todo_req_t *q, const char *id,
                       const todo_task_input_t *in, int toggle, idem_t *ik)
{
    const char *vers = todo_etag_match_versions(
        r->pool, apr_table_get(r->headers_in, "If-Match"));
    todo_rows_t rows;
    todo_task_t t;
    int st;

    if (ik->key) {
        idem_task_errors(r, q, ik);
        return idem_run(r, q, ik, TODO_STMT_UPDATE_IDEM,
                        todo_sql_args_update_idem(r->pool, r->user, id, vers,
                                                  in, toggle, &ik->a));
    }
    st = todo_dbd_run(
        r, TODO_STMT_UPDATE,
        todo_sql_args_update(r->pool, r->user, id, vers, in, toggle), 0,
        &rows);
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
            return send_error(r, HTTP_PRECONDITION_FAILED, MSG_CHANGED, NULL);
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
    task_body_t tb;
    idem_t ik;
    int st;

    if (idem_begin(r, q, &ik) != OK) {
        return OK;
    }
    st = task_body(r, q, kind, &in, kind == TODO_BODY_COMPLETE, &tb);
    if (st != OK) {
        return task_done(st);
    }
    if (ik.key && idem_fingerprint(r, q, &ik, id, &tb)) {
        return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    }
    if (tb.status) {
        return bad_body(r, q, &ik, &tb);
    }
    return update_task(r, q, id, tb.body ? &in : NULL, !tb.body, &ik);
}

static int delete_task(request_rec *r, todo_req_t *q, const char *id)
{
    const char *vers = todo_etag_match_versions(
        r->pool, apr_table_get(r->headers_in, "If-Match"));
    todo_rows_t rows;
    const char *found;
    idem_t ik;
    int st;

    if (idem_begin(r, q, &ik) != OK) {
        return OK;
    }
    if (ik.key) {
        if (idem_fingerprint(r, q, &ik, id, NULL)) {
            return send_error(r, HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
        }
        idem_task_errors(r, q, &ik);
        return idem_run(r, q, &ik, TODO_STMT_DELETE_IDEM,
                        todo_sql_args_delete_idem(r->pool, r->user, id, vers,
                                                  q->site->tomb_retention,
                                                  &ik.a));
    }
    st = todo_dbd_run(r, TODO_STMT_DELETE,
                      todo_sql_args_delete(r->pool, r->user, id, vers,
                                           q->site->tomb_retention),
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
        return send_error(r, HTTP_PRECONDITION_FAILED, MSG_CHANGED, NULL);
    }
    return not_found(r, q, id);
}

/* The operations on one task: the id in the path must be a UUID. */
static int one_task(request_rec *r, todo_req_t *q)
{
    const char *id = q->route.task_id;

    if (!todo_text_is_uuid(id)) {
        return send_error(r, HTTP_UNPROCESSABLE_ENTITY,
                          "the task id is not a UUID", NULL);
    }
    id = apr_pstrdup(r->pool, id);
    ap_str_tolower((char *)id);
    switch (q->route.op) {
    case TODO_OP_GET:
        return get_task(r, q, id);
    case TODO_OP_REPLACE:
        return write_task(r, q, id, TODO_BODY_REPLACE);
    case TODO_OP_PATCH:
        return write_task(r, q, id, TODO_BODY_PATCH);
    case TODO_OP_COMPLETE:
        return write_task(r, q, id, TODO_BODY_COMPLETE);
    default:
        return delete_task(r, q, id);
    }
}

static int tasks(request_rec *r, todo_req_t *q)
{
    if (!r->user) {
        /* The access checker always sets a user for these routes; getting
         * here without one means another module bypassed it. */
        todo_rlog(r, APLOG_ERR, 0, 0301,
                  "task route reached without an "
                  "authenticated user; refusing");
        return send_error(r, HTTP_UNAUTHORIZED, "authentication required",
                          NULL);
    }
    if (q->route.user && strcmp(q->route.user, r->user)) {
        return send_error(r, HTTP_FORBIDDEN,
                          "the user in the path is not "
                          "the authenticated user",
                          NULL);
    }
    switch (q->route.op) {
    case TODO_OP_LIST:
        return list_tasks(r, q);
    case TODO_OP_CREATE:
        return create_task(r, q);
    case TODO_OP_CHANGES:
        return changes(r, q);
    default:
        return one_task(r, q);
    }
}

/* ---------------------------------------------------- the other routes */

static int health(request_rec *r)
{
    char ts[TODO_TIME_LEN];
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
    todo_time_format(ts, apr_time_now());
    data_begin(r, &b, 256);
    todo_buf_printf(&b,
                    "{\"status\":\"healthy\",\"database\":\"up\","
                    "\"timestamp\":\"%s\"}",
                    ts);
    return data_end(r, &b, HTTP_OK);
}

/* The OpenAPI document, with "servers" pointing at this location. */
static int openapi(request_rec *r, todo_req_t *q)
{
    todo_buf_t b;

    todo_buf_init(&b, r->pool, strlen(todo_openapi_doc) + 128);
    todo_buf_puts(&b, "{\"servers\":[{\"url\":");
    todo_buf_json_string(&b, *q->site->prefix ? q->site->prefix : "/");
    todo_buf_puts(&b, "}],");
    todo_buf_puts(&b, todo_openapi_doc + 1); /* past its "{" */
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    return send_json(r, HTTP_OK, &b);
}

/* The docs page (Swagger UI for the document, with its Content-Security-
 * Policy) or the script that starts it; the text comes from todo_docs. */
static int docs(request_rec *r, todo_req_t *q)
{
    const todo_site_t *site = q->site;
    const char *body;

    if (q->route.op == TODO_OP_DOCS_INIT) {
        ap_set_content_type(r, "text/javascript; charset=utf-8");
        body = todo_docs_init_js;
    }
    else {
        ap_set_content_type(r, "text/html; charset=utf-8");
        apr_table_setn(r->headers_out, "Content-Security-Policy",
                       todo_docs_csp(r->pool, site->docs_assets));
        body = todo_docs_html(
            r->pool,
            todo_route_path(r->pool, site->prefix, TODO_ROUTE_OPENAPI),
            todo_route_path(r->pool, site->prefix, TODO_ROUTE_DOCS_INIT),
            site->docs_assets);
    }
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    r->status = HTTP_OK;
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

/* OPTIONS: a CORS preflight from an allowed origin gets the full set of
 * Access-Control-* headers; anything else just learns the methods. */
static int options(request_rec *r, todo_req_t *q)
{
    apr_table_setn(r->headers_out, "Allow", q->route.allow);
    if (q->origin
        && apr_table_get(r->headers_in, "Access-Control-Request-Method")) {
        apr_table_setn(r->headers_out, "Access-Control-Allow-Methods",
                       q->route.allow);
        apr_table_setn(r->headers_out, "Access-Control-Allow-Headers",
                       CORS_ALLOW_HEADERS);
        apr_table_setn(r->headers_out, "Access-Control-Max-Age", CORS_MAX_AGE);
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
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            TODOLOG(0302) "SetHandler todo outside a <Location> mod_todo set "
                          "up at startup; see the README");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    switch (q->route.op) {
    case TODO_OP_NOT_FOUND:
        return send_error(r, HTTP_NOT_FOUND, "no such route", NULL);
    case TODO_OP_NOT_ALLOWED:
        apr_table_setn(r->err_headers_out, "Allow", q->route.allow);
        return send_error(
            r, HTTP_METHOD_NOT_ALLOWED,
            apr_psprintf(r->pool, "%s is not allowed here", r->method), NULL);
    case TODO_OP_OPTIONS:
        return options(r, q);
    case TODO_OP_HEALTH:
        return health(r);
    case TODO_OP_OPENAPI:
        return openapi(r, q);
    case TODO_OP_DOCS:
    case TODO_OP_DOCS_INIT:
        return docs(r, q);
    default:
        return tasks(r, q);
    }
}

/* ------------------------------------------------- httpd's own errors */

#define ERROR_FILTER "TODO_JSON_ERROR"

/* Turn httpd's HTML error page into our JSON envelope, for responses under
 * a todo location (401 from the access checker, 413, 500, ...). */
void todo_api_insert_error_filter(request_rec *r)
{
    todo_req_t *q = todo_req_get(r);

    if (!q) {
        return;
    }
    /* Here, before httpd writes its page and then reads the rest of the
     * body to keep the connection: it must not wait for that body. */
    close_if_body_unread(r, r->status);
    if (!AP_STATUS_IS_HEADER_ONLY(r->status)) {
        ap_add_output_filter(ERROR_FILTER, q, r, r->connection);
    }
}

static apr_status_t error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    todo_req_t *q = f->ctx;
    apr_bucket *e;
    todo_buf_t b;
    int eos = 0;

    /* Swallow the HTML page; at its end, send ours instead. */
    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_NEXT(e)) {
        eos |= APR_BUCKET_IS_EOS(e);
    }
    apr_brigade_cleanup(bb);
    if (!eos) {
        return APR_SUCCESS;
    }
    todo_buf_init(&b, r->pool, 256);
    error_body(r, &b, r->status, q->err_code, q->err_message, NULL);
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)b.len);
    APR_BRIGADE_INSERT_TAIL(
        bb, apr_bucket_pool_create(b.data, b.len, r->pool, bb->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void todo_api_register_filters(void)
{
    ap_register_output_filter(ERROR_FILTER, error_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
}
