/* todo_json: the response envelope (docs/api.md §6) and the JSON form of a
 * task, written straight into a todo_buf_t -- no json_t trees on the way
 * out, since this runs for every response. */
#include "todo_json.h"

/* Append a string literal without a strlen() at run time. */
#define PUT_LIT(b, lit) todo_buf_append((b), (lit), sizeof(lit) - 1)

/* A JSON string, or null for a NULL pointer. */
static void put_string_or_null(todo_buf_t *b, const char *s)
{
    if (s == NULL) {
        PUT_LIT(b, "null");
    }
    else {
        todo_buf_json_string(b, s);
    }
}

static void put_int64(todo_buf_t *b, apr_int64_t v)
{
    char tmp[21];
    apr_uint64_t u = v < 0 ? 0 - (apr_uint64_t)v : (apr_uint64_t)v;
    apr_size_t n = sizeof(tmp);

    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        tmp[--n] = '-';
    }
    todo_buf_append(b, tmp + n, sizeof(tmp) - n);
}

static void put_meta(todo_buf_t *b, const todo_meta_t *meta)
{
    PUT_LIT(b, "\"meta\":{\"request_id\":");
    put_string_or_null(b, meta ? meta->request_id : NULL);
    PUT_LIT(b, ",\"timestamp\":");
    put_string_or_null(b, meta ? meta->timestamp : NULL);
    PUT_LIT(b, "}}");
}

void todo_json_data_begin(todo_buf_t *b)
{
    PUT_LIT(b, "{\"data\":");
}

void todo_json_data_end(todo_buf_t *b, const todo_meta_t *meta)
{
    PUT_LIT(b, ",\"error\":null,");
    put_meta(b, meta);
}

void todo_json_error(todo_buf_t *b, const char *code, const char *message,
                     const apr_array_header_t *details,
                     const todo_meta_t *meta)
{
    PUT_LIT(b, "{\"data\":null,\"error\":{\"code\":");
    put_string_or_null(b, code);
    PUT_LIT(b, ",\"message\":");
    put_string_or_null(b, message);
    if (details != NULL && details->nelts > 0) {
        const todo_detail_t *d = (const todo_detail_t *)details->elts;
        int i;

        PUT_LIT(b, ",\"details\":[");
        for (i = 0; i < details->nelts; i++) {
            if (i > 0) {
                todo_buf_putc(b, ',');
            }
            todo_buf_putc(b, '{');
            /* A problem with the body as a whole names no field. */
            if (d[i].field != NULL) {
                PUT_LIT(b, "\"field\":");
                todo_buf_json_string(b, d[i].field);
                todo_buf_putc(b, ',');
            }
            PUT_LIT(b, "\"message\":");
            put_string_or_null(b, d[i].message);
            todo_buf_putc(b, '}');
        }
        todo_buf_putc(b, ']');
    }
    PUT_LIT(b, "},");
    put_meta(b, meta);
}

typedef struct {
    int status;
    const char *code;
    const char *message;
} status_entry_t;

static const status_entry_t status_table[] = {
    { 400, "VALIDATION_ERROR", "The request is invalid." },
    { 401, "UNAUTHORIZED", "Authentication is required." },
    { 403, "FORBIDDEN", "Access to this resource is forbidden." },
    { 404, "NOT_FOUND", "The requested resource was not found." },
    { 405, "METHOD_NOT_ALLOWED",
      "The method is not allowed for this resource." },
    { 409, "CONFLICT", "The request conflicts with the current state." },
    { 410, "GONE", "The resource is no longer available." },
    { 412, "PRECONDITION_FAILED",
      "The resource does not match the given precondition." },
    { 413, "PAYLOAD_TOO_LARGE", "The request body is too large." },
    { 415, "UNSUPPORTED_MEDIA_TYPE",
      "The request body must be application/json." },
    { 422, "UNPROCESSABLE_ENTITY",
      "The request body could not be processed." },
    { 429, "TOO_MANY_REQUESTS",
      "Too many requests: the rate limit is exceeded." },
    { 503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable." },
};

static const status_entry_t status_bad_request = { 0, "BAD_REQUEST",
                                                   "The request is invalid." };
/* Also what a non-error status maps to: asking for an error body for one
 * is a bug of ours, not of the client. */
static const status_entry_t status_internal = {
    0, "INTERNAL_ERROR", "An internal error occurred."
};

static const status_entry_t *status_lookup(int status)
{
    apr_size_t i;

    for (i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
        if (status_table[i].status == status) {
            return &status_table[i];
        }
    }
    return status >= 400 && status < 500 ? &status_bad_request
                                         : &status_internal;
}

const char *todo_json_status_code(int status)
{
    return status_lookup(status)->code;
}

const char *todo_json_status_message(int status)
{
    return status_lookup(status)->message;
}

void todo_json_task(todo_buf_t *b, const todo_task_t *t)
{
    PUT_LIT(b, "{\"id\":");
    put_string_or_null(b, t->id);
    PUT_LIT(b, ",\"user_id\":");
    put_string_or_null(b, t->user_id);
    PUT_LIT(b, ",\"title\":");
    put_string_or_null(b, t->title);
    PUT_LIT(b, ",\"description\":");
    put_string_or_null(b, t->description);
    if (t->completed) {
        PUT_LIT(b, ",\"completed\":true,\"completed_at\":");
    }
    else {
        PUT_LIT(b, ",\"completed\":false,\"completed_at\":");
    }
    put_string_or_null(b, t->completed_at);
    PUT_LIT(b, ",\"priority\":");
    put_int64(b, t->priority);
    PUT_LIT(b, ",\"due_at\":");
    put_string_or_null(b, t->due_at);
    PUT_LIT(b, ",\"created_at\":");
    put_string_or_null(b, t->created_at);
    PUT_LIT(b, ",\"updated_at\":");
    put_string_or_null(b, t->updated_at);
    PUT_LIT(b, ",\"version\":");
    put_int64(b, t->version);
    todo_buf_putc(b, '}');
}
