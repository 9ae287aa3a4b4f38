/* todo_json: the response envelope of docs/api.md §6 and the JSON form of
 * a task, written straight into a todo_buf_t.  Free of httpd. */
#ifndef TODO_JSON_H
#define TODO_JSON_H

#include "todo_buf.h"
#include "todo_task.h"

typedef struct {
    const char *request_id;
    const char *timestamp; /* RFC 3339 */
} todo_meta_t;

/* {"data": ...  -- the caller writes the data value next. */
void todo_json_data_begin(todo_buf_t *b);
/* ..., "error": null, "meta": {...}} */
void todo_json_data_end(todo_buf_t *b, const todo_meta_t *meta);

/* A whole error envelope: {"data":null,"error":{"code":..,"message":..,
 * "details":[{"field":..,"message":..}]},"meta":{..}}.  details (array of
 * todo_detail_t) may be NULL or empty: "details" is then omitted. */
void todo_json_error(todo_buf_t *b, const char *code, const char *message,
                     const apr_array_header_t *details,
                     const todo_meta_t *meta);

/* The error code and a generic message for an HTTP status (docs/api.md §6.2):
 * 400 VALIDATION_ERROR, 401 UNAUTHORIZED, 403 FORBIDDEN, 404 NOT_FOUND,
 * 405 METHOD_NOT_ALLOWED, 409 CONFLICT, 410 GONE, 412 PRECONDITION_FAILED, 413 PAYLOAD_TOO_LARGE,
 * 415 UNSUPPORTED_MEDIA_TYPE, 422 UNPROCESSABLE_ENTITY, 503
 * SERVICE_UNAVAILABLE, anything else >= 500 INTERNAL_ERROR (other 4xx:
 * BAD_REQUEST). */
const char *todo_json_status_code(int status);
const char *todo_json_status_message(int status);

/* One task object with the fields in the order of docs/api.md §4. */
void todo_json_task(todo_buf_t *b, const todo_task_t *t);

#endif
