/* todo_task: validation of task request bodies (docs/api.md §4).
 *
 * The body is parsed with jansson, then every member is checked against
 * the rules of its field.  Problems are collected rather than reported one
 * at a time, so a client sees everything that is wrong in one response.
 * Accepted strings are copied into the request pool and the json_t tree is
 * released at once: nothing here outlives the parse but pool memory. */
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include "todo_task.h"
#include "todo_text.h"
#include "todo_time.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define M_STRING "must be a string"
#define M_STRING_NULL "must be a string or null"
#define M_TITLE_LEN "must be 1-" STR(TODO_TITLE_MAX) " characters"
#define M_BLANK "must not be blank"
#define M_DESC_LEN "must be at most " STR(TODO_DESCRIPTION_MAX) " characters"
#define M_BOOLEAN "must be a boolean"
#define M_PRIORITY "must be an integer 0-" STR(TODO_PRIORITY_MAX)
#define M_DUE_AT "must be an RFC 3339 date-time or null"
#define M_REQUIRED "is required"
#define M_UNKNOWN "unknown field"
#define M_READ_ONLY "read-only field"
#define M_NOT_OBJECT "request body must be a JSON object"
#define M_MALFORMED "malformed JSON"
#define M_BAD_UTF8 "body is not valid UTF-8"

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *details;
    todo_body_kind_e kind;
    todo_task_input_t *in;
    unsigned seen; /* TODO_F_* of members given, valid or not */
    int problems;
    int type_problems;
} task_parse_t;

static void problem(task_parse_t *tp, const char *field, const char *message,
                    int type_problem)
{
    tp->problems++;
    tp->type_problems += type_problem;
    if (tp->details != NULL) {
        todo_detail_t *d = apr_array_push(tp->details);

        d->field = field;
        d->message = message;
    }
}

static const char *copy_string(apr_pool_t *p, const json_t *v)
{
    return apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
}

/* Code points of a jansson string (jansson has checked the UTF-8). */
static long string_chars(const json_t *v)
{
    return todo_text_utf8_length(json_string_value(v), json_string_length(v));
}

static void check_title(task_parse_t *tp, const char *name, json_t *v)
{
    long n;

    if (!json_is_string(v)) {
        problem(tp, name, M_STRING, 1);
        return;
    }
    n = string_chars(v);
    if (n < 1 || n > TODO_TITLE_MAX) {
        problem(tp, name, M_TITLE_LEN, 0);
    }
    else if (todo_text_is_blank(json_string_value(v))) {
        problem(tp, name, M_BLANK, 0);
    }
    else {
        tp->in->title = copy_string(tp->p, v);
        tp->in->present |= TODO_F_TITLE;
    }
}

static void check_description(task_parse_t *tp, const char *name, json_t *v)
{
    if (json_is_null(v)) {
        tp->in->description = NULL;
    }
    else if (!json_is_string(v)) {
        problem(tp, name, M_STRING_NULL, 1);
        return;
    }
    else if (string_chars(v) > TODO_DESCRIPTION_MAX) {
        problem(tp, name, M_DESC_LEN, 0);
        return;
    }
    else {
        tp->in->description = copy_string(tp->p, v);
    }
    tp->in->present |= TODO_F_DESCRIPTION;
}

static void check_completed(task_parse_t *tp, const char *name, json_t *v)
{
    if (!json_is_boolean(v)) {
        problem(tp, name, M_BOOLEAN, 1);
        return;
    }
    tp->in->completed = json_is_true(v);
    tp->in->present |= TODO_F_COMPLETED;
}

static void check_priority(task_parse_t *tp, const char *name, json_t *v)
{
    json_int_t n;

    /* json_is_integer: 1.0, "1" and true are not integers. */
    if (!json_is_integer(v)) {
        problem(tp, name, M_PRIORITY, 1);
        return;
    }
    /* Compare as json_int_t, before narrowing to int can wrap. */
    n = json_integer_value(v);
    if (n < 0 || n > TODO_PRIORITY_MAX) {
        problem(tp, name, M_PRIORITY, 0);
        return;
    }
    tp->in->priority = (int)n;
    tp->in->present |= TODO_F_PRIORITY;
}

static void check_due_at(task_parse_t *tp, const char *name, json_t *v)
{
    const char *norm = NULL;

    if (json_is_string(v)) {
        if (todo_time_rfc3339_parse(tp->p, json_string_value(v), &norm) != 0) {
            problem(tp, name, M_DUE_AT, 0);
            return;
        }
    }
    else if (!json_is_null(v)) {
        problem(tp, name, M_DUE_AT, 1);
        return;
    }
    tp->in->due_at = norm;
    tp->in->present |= TODO_F_DUE_AT;
}

typedef void (*field_check_fn)(task_parse_t *tp, const char *name, json_t *v);

static const struct {
    const char *name;
    unsigned flag;
    field_check_fn check;
} fields[] = {
    { "title", TODO_F_TITLE, check_title },
    { "description", TODO_F_DESCRIPTION, check_description },
    { "completed", TODO_F_COMPLETED, check_completed },
    { "priority", TODO_F_PRIORITY, check_priority },
    { "due_at", TODO_F_DUE_AT, check_due_at },
};

static const char *const read_only_fields[] = {
    "id", "user_id", "created_at", "updated_at", "completed_at", "version",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void check_member(task_parse_t *tp, const char *key, json_t *v)
{
    /* A COMPLETE body may carry nothing but "completed". */
    unsigned allowed =
        tp->kind == TODO_BODY_COMPLETE ? TODO_F_COMPLETED : TODO_F_ALL;
    apr_size_t i;

    for (i = 0; i < COUNT(fields); i++) {
        if (strcmp(key, fields[i].name) == 0) {
            if (!(fields[i].flag & allowed)) {
                break;
            }
            tp->seen |= fields[i].flag;
            fields[i].check(tp, fields[i].name, v);
            return;
        }
    }
    for (i = 0; i < COUNT(read_only_fields); i++) {
        if (strcmp(key, read_only_fields[i]) == 0) {
            problem(tp, read_only_fields[i], M_READ_ONLY, 0);
            return;
        }
    }
    /* key lives in the json_t, which is released before we return. */
    problem(tp, apr_pstrdup(tp->p, key), M_UNKNOWN, 0);
}

/* The body as a whole is unusable: one detail without a field. */
static int body_problem(task_parse_t *tp, int status, const char *summary,
                        const char *detail, const char **message)
{
    problem(tp, NULL, detail, status == 422);
    *message = summary;
    return status;
}

static int load_problem(task_parse_t *tp, const json_error_t *err,
                        const char **message)
{
    const char *detail;

    switch (json_error_code(err)) {
    case json_error_invalid_utf8:
        return body_problem(tp, 422, M_BAD_UTF8, M_BAD_UTF8, message);
    case json_error_out_of_memory:
        /* Not the client's fault, and nothing to tell it: a 500 with
         * the generic message and no details. */
        *message = "An internal error occurred.";
        return 500;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        detail = "\\u0000 is not allowed";
        break;
    case json_error_duplicate_key:
        detail = "duplicate member name";
        break;
    case json_error_end_of_input_expected:
        detail = "unexpected data after the JSON value";
        break;
    case json_error_numeric_overflow:
        detail = "number out of range";
        break;
    case json_error_stack_overflow:
        detail = "nested too deeply";
        break;
    default:
        detail = M_MALFORMED;
        break;
    }
    return body_problem(tp, 422, M_MALFORMED, detail, message);
}

/* What the body kind requires beyond the checks of each member. */
static void check_required(task_parse_t *tp, apr_size_t members)
{
    switch (tp->kind) {
    case TODO_BODY_CREATE:
    case TODO_BODY_REPLACE:
        if (!(tp->seen & TODO_F_TITLE)) {
            problem(tp, "title", M_REQUIRED, 0);
        }
        break;
    case TODO_BODY_PATCH:
        if (members == 0) {
            problem(tp, NULL, "at least one field is required", 0);
        }
        break;
    case TODO_BODY_COMPLETE:
        if (!(tp->seen & TODO_F_COMPLETED)) {
            problem(tp, "completed", M_REQUIRED, 0);
        }
        break;
    }
}

int todo_task_parse(apr_pool_t *p, const char *body, apr_size_t len,
                    todo_body_kind_e kind, todo_task_input_t *in,
                    apr_array_header_t *details, const char **message)
{
    task_parse_t tp;
    json_error_t err;
    json_t *root, *v;
    const char *key;
    apr_size_t members;

    /* The defaults of CREATE/REPLACE: all zero bits and NULLs. */
    memset(in, 0, sizeof(*in));
    *message = NULL;
    tp.p = p;
    tp.details = details;
    tp.kind = kind;
    tp.in = in;
    tp.seen = 0;
    tp.problems = 0;
    tp.type_problems = 0;

    if (body == NULL || len == 0) {
        return body_problem(&tp, 422, M_NOT_OBJECT, M_NOT_OBJECT, message);
    }
    /* JSON_DECODE_ANY so that a scalar body is reported as "not an
     * object" rather than as a syntax error. */
    root =
        json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (root == NULL) {
        return load_problem(&tp, &err, message);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return body_problem(&tp, 422, M_NOT_OBJECT, M_NOT_OBJECT, message);
    }
    json_object_foreach(root, key, v)
    {
        check_member(&tp, key, v);
    }
    members = json_object_size(root);
    json_decref(root);
    check_required(&tp, members);

    if (tp.problems > 0) {
        if (tp.type_problems > 0) {
            *message = "invalid field types";
            return 422;
        }
        *message = "validation failed";
        return 400;
    }
    if (kind == TODO_BODY_REPLACE) {
        /* PUT replaces everything: an omitted field is its default. */
        in->present = TODO_F_ALL;
    }
    return 0;
}
