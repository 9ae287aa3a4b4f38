/* todo_task: the task resource -- validation of request bodies and the row
 * shape read back from the database.  Free of httpd.
 *
 * Rules (docs/api.md §4):
 *   title        string, 1-200 Unicode characters, not only White_Space
 *   description  null or string of at most 1000 characters
 *   completed    boolean
 *   priority     integer 0-3 (a JSON integer; 1.0 and "1" are type errors)
 *   due_at       null or an RFC 3339 date-time string
 *   id, user_id, created_at, updated_at, completed_at, version
 *                server-managed: present in a body -> 400 "read-only field"
 *   anything else -> 400 "unknown field"
 */
#ifndef TODO_TASK_H
#define TODO_TASK_H

#include <apr_pools.h>
#include <apr_tables.h>

#define TODO_TITLE_MAX 200
#define TODO_DESCRIPTION_MAX 1000
#define TODO_PRIORITY_MAX 3

/* A task as stored; timestamps are RFC 3339 UTC strings made by SQL.
 * NULL pointers are JSON nulls. */
typedef struct {
    const char *id;
    const char *user_id;
    const char *title;
    const char *description;
    int completed;
    const char *completed_at;
    int priority;
    const char *due_at;
    const char *created_at;
    const char *updated_at;
    apr_int64_t version;
} todo_task_t;

/* Which fields a body carried. */
#define TODO_F_TITLE 0x01u
#define TODO_F_DESCRIPTION 0x02u
#define TODO_F_COMPLETED 0x04u
#define TODO_F_PRIORITY 0x08u
#define TODO_F_DUE_AT 0x10u
#define TODO_F_ALL 0x1fu

typedef enum {
    TODO_BODY_CREATE,  /* POST: title required, others default */
    TODO_BODY_REPLACE, /* PUT: title required; omitted fields reset to
                             their defaults, so `present` is TODO_F_ALL */
    TODO_BODY_PATCH,   /* PATCH: any non-empty subset; null clears
                             description/due_at; null title/priority/
                             completed are type errors */
    TODO_BODY_COMPLETE /* PATCH .../complete with a body: exactly
                             {"completed": bool} */
} todo_body_kind_e;

typedef struct {
    unsigned present; /* TODO_F_* */
    const char *title;
    const char *description; /* NULL: null */
    int completed;
    int priority;
    const char *due_at; /* normalized RFC 3339, NULL: null */
} todo_task_input_t;

/* One problem with one field, for error.details. */
typedef struct {
    const char *field; /* NULL for the body as a whole */
    const char *message;
} todo_detail_t;

/* Validate a request body (len bytes, not necessarily NUL-terminated).
 * Returns 0 and fills *in, or an HTTP status with details pushed onto
 * `details` (an array of todo_detail_t) and a summary in *message:
 *   422  not valid UTF-8, not JSON (incl. \u0000), not an object, or a
 *        field of the wrong JSON type
 *   400  unknown or read-only field, missing title, value out of range,
 *        bad due_at format, empty PATCH object
 * Every problem found is listed; when any is a type problem the status is
 * 422, otherwise 400.  Defaults for CREATE/REPLACE: description null,
 * completed false, priority 0, due_at null. */
int todo_task_parse(apr_pool_t *p, const char *body, apr_size_t len,
                    todo_body_kind_e kind, todo_task_input_t *in,
                    apr_array_header_t *details, const char **message);

#endif
