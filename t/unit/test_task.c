/* Unit tests of todo_task_parse: every field rule at its edges, the body
 * kinds (POST, PUT, PATCH, PATCH .../complete), whole-body problems and the
 * 400/422 precedence. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "todo_test.h"
#include "todo_task.h"

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *details;
    todo_task_input_t in;
    const char *message;
} fixture_t;

/* The shared pool fixture, with this suite's state in the pool. */
static int setup(void **state)
{
    fixture_t *f;

    if (todo_test_pool_setup(state)) {
        return -1;
    }
    f = apr_pcalloc(*state, sizeof(*f));
    f->p = *state;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    void *p = ((fixture_t *)*state)->p;

    return todo_test_pool_teardown(&p);
}

static int parse_n(fixture_t *f, const char *body, apr_size_t len,
                   todo_body_kind_e kind)
{
    f->details = apr_array_make(f->p, 4, sizeof(todo_detail_t));
    f->message = "unset";
    return todo_task_parse(f->p, body, len, kind, &f->in, f->details,
                           &f->message);
}

static int parse(fixture_t *f, const char *body, todo_body_kind_e kind)
{
    return parse_n(f, body, strlen(body), kind);
}

static int field_equal(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The i-th detail is exactly (field, message); field NULL means none. */
static void assert_detail_at(fixture_t *f, int i, const char *field,
                             const char *message)
{
    const todo_detail_t *d;

    if (i >= f->details->nelts) {
        fail_msg("detail %d missing (have %d)", i, f->details->nelts);
    }
    d = &APR_ARRAY_IDX(f->details, i, todo_detail_t);
    if (!field_equal(d->field, field) || !field_equal(d->message, message)) {
        fail_msg("detail %d: want %s: %s, got %s: %s", i,
                 field ? field : "(none)", message,
                 d->field ? d->field : "(none)",
                 d->message ? d->message : "(null)");
    }
}

/* Exactly one problem, (field, message), with the given status. */
static void assert_problem(fixture_t *f, int status, int want_status,
                           const char *field, const char *message)
{
    assert_int_equal(status, want_status);
    assert_int_equal(f->details->nelts, 1);
    assert_detail_at(f, 0, field, message);
    assert_string_equal(f->message, want_status == 422 ? "invalid field types"
                                                       : "validation failed");
}

/* A whole-body problem: 422, one detail without a field. */
static void assert_body_problem(fixture_t *f, int status, const char *summary)
{
    const todo_detail_t *d;

    assert_int_equal(status, 422);
    assert_string_equal(f->message, summary);
    assert_int_equal(f->details->nelts, 1);
    d = &APR_ARRAY_IDX(f->details, 0, todo_detail_t);
    assert_null(d->field);
    assert_non_null(d->message);
}

/* ... and what its one detail says. */
static void assert_body_detail(fixture_t *f, const char *message)
{
    assert_detail_at(f, 0, NULL, message);
}

static void assert_ok(fixture_t *f, int status)
{
    if (status != 0) {
        const todo_detail_t *d =
            f->details->nelts ? &APR_ARRAY_IDX(f->details, 0, todo_detail_t)
                              : NULL;

        fail_msg("status %d (%s; %s: %s)", status, f->message,
                 d && d->field ? d->field : "-", d ? d->message : "-");
    }
    assert_int_equal(f->details->nelts, 0);
}

/* count copies of the UTF-8 character unit. */
static char *repeat(apr_pool_t *p, const char *unit, int count)
{
    apr_size_t n = strlen(unit);
    char *s = apr_palloc(p, n * (apr_size_t)count + 1), *o = s;
    int i;

    for (i = 0; i < count; i++) {
        memcpy(o, unit, n);
        o += n;
    }
    *o = '\0';
    return s;
}

static const char *title_body(fixture_t *f, const char *unit, int count)
{
    return apr_psprintf(f->p, "{\"title\":\"%s\"}", repeat(f->p, unit, count));
}

/* -------------------------------------------------------------- create */

static void test_create_minimal(void **state)
{
    fixture_t *f = *state;

    assert_ok(f, parse(f, "{\"title\":\"Buy milk\"}", TODO_BODY_CREATE));
    assert_string_equal(f->in.title, "Buy milk");
    assert_int_equal(f->in.present, TODO_F_TITLE);
    /* defaults */
    assert_null(f->in.description);
    assert_int_equal(f->in.completed, 0);
    assert_int_equal(f->in.priority, 0);
    assert_null(f->in.due_at);
}

static void test_create_all_fields(void **state)
{
    fixture_t *f = *state;

    assert_ok(f,
              parse(f,
                    " \n{\"title\":\"Buy milk\",\"description\":\"2 litres\","
                    "\"completed\":true,\"priority\":3,"
                    "\"due_at\":\"2026-11-22t10:31:59.5z\"}\r\n",
                    TODO_BODY_CREATE));
    assert_int_equal(f->in.present, TODO_F_ALL);
    assert_string_equal(f->in.title, "Buy milk");
    assert_string_equal(f->in.description, "2 litres");
    assert_int_equal(f->in.completed, 1);
    assert_int_equal(f->in.priority, 3);
    /* stored normalized */
    assert_string_equal(f->in.due_at, "2026-11-22T10:31:59.5Z");
}

static void test_strings_outlive_parse(void **state)
{
    fixture_t *f = *state;
    char *body = apr_pstrdup(
        f->p, "{\"title\":\"T\\u00e9\\\"x\",\"description\":\"line\\nline\"}");

    assert_ok(f, parse(f, body, TODO_BODY_CREATE));
    /* Scribbling over the body and allocating more leaves them alone. */
    memset(body, 'x', strlen(body));
    (void)repeat(f->p, "y", 4096);
    assert_string_equal(f->in.title, "T\xC3\xA9\"x");
    assert_string_equal(f->in.description, "line\nline");
}

static void test_create_title_required(void **state)
{
    fixture_t *f = *state;

    assert_problem(f, parse(f, "{\"description\":\"x\"}", TODO_BODY_CREATE),
                   400, "title", "is required");
    assert_problem(f, parse(f, "{}", TODO_BODY_CREATE), 400, "title",
                   "is required");
}

/* --------------------------------------------------------------- title */

static void title_length_edges(fixture_t *f, const char *unit)
{
    assert_problem(f, parse(f, title_body(f, unit, 0), TODO_BODY_CREATE), 400,
                   "title", "must be 1-200 characters");
    assert_ok(f, parse(f, title_body(f, unit, 1), TODO_BODY_CREATE));
    assert_string_equal(f->in.title, unit);
    assert_ok(f, parse(f, title_body(f, unit, 200), TODO_BODY_CREATE));
    assert_string_equal(f->in.title, repeat(f->p, unit, 200));
    assert_problem(f, parse(f, title_body(f, unit, 201), TODO_BODY_CREATE),
                   400, "title", "must be 1-200 characters");
}

static void test_title_length_ascii(void **state)
{
    title_length_edges(*state, "a");
}

static void test_title_length_2byte(void **state)
{
    title_length_edges(*state, "\xC3\xA9"); /* U+00E9 */
}

static void test_title_length_3byte(void **state)
{
    title_length_edges(*state, "\xE6\x97\xA5"); /* U+65E5 */
}

static void test_title_length_4byte(void **state)
{
    title_length_edges(*state, "\xF0\x9F\x98\x80"); /* U+1F600 */
}

static void test_title_length_escaped(void **state)
{
    fixture_t *f = *state;

    /* \u escapes count as the characters they stand for: a surrogate
     * pair is one character. */
    assert_ok(f, parse(f, title_body(f, "\\u00e9", 200), TODO_BODY_CREATE));
    assert_ok(
        f, parse(f, title_body(f, "\\ud83d\\ude00", 200), TODO_BODY_CREATE));
    assert_string_equal(f->in.title, repeat(f->p, "\xF0\x9F\x98\x80", 200));
    assert_problem(
        f, parse(f, title_body(f, "\\ud83d\\ude00", 201), TODO_BODY_CREATE),
        400, "title", "must be 1-200 characters");
}

static void test_title_blank(void **state)
{
    fixture_t *f = *state;

    assert_problem(f, parse(f, "{\"title\":\" \"}", TODO_BODY_CREATE), 400,
                   "title", "must not be blank");
    assert_problem(f,
                   parse(f, "{\"title\":\"   \\t\\n\\r \"}", TODO_BODY_CREATE),
                   400, "title", "must not be blank");
    /* U+3000 ideographic space, raw and escaped; U+00A0 */
    assert_problem(
        f,
        parse(f, "{\"title\":\"\xE3\x80\x80\xE3\x80\x80\"}", TODO_BODY_CREATE),
        400, "title", "must not be blank");
    assert_problem(
        f,
        parse(f, "{\"title\":\"\\u3000 \\u00a0\\u2028\"}", TODO_BODY_CREATE),
        400, "title", "must not be blank");
    /* 201 spaces are too long first of all */
    assert_problem(f, parse(f, title_body(f, " ", 201), TODO_BODY_CREATE), 400,
                   "title", "must be 1-200 characters");
    /* something visible inside the blanks is fine, and kept as is */
    assert_ok(f, parse(f, "{\"title\":\" a \"}", TODO_BODY_CREATE));
    assert_string_equal(f->in.title, " a ");
    assert_ok(f,
              parse(f, "{\"title\":\"\\u3000x\\u3000\"}", TODO_BODY_CREATE));
    /* U+200B is not White_Space */
    assert_ok(f, parse(f, "{\"title\":\"\\u200b\"}", TODO_BODY_CREATE));
}

static void test_title_type(void **state)
{
    static const char *const bodies[] = {
        "{\"title\":5}",       "{\"title\":true}", "{\"title\":null}",
        "{\"title\":[\"a\"]}", "{\"title\":{}}",   "{\"title\":1.5}",
    };
    fixture_t *f = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        /* a title of the wrong type is not also "required" */
        assert_problem(f, parse(f, bodies[i], TODO_BODY_CREATE), 422, "title",
                       "must be a string");
    }
}

/* --------------------------------------------------------- description */

static void test_description(void **state)
{
    fixture_t *f = *state;
    const char *body;

    body = apr_psprintf(f->p, "{\"title\":\"t\",\"description\":\"%s\"}",
                        repeat(f->p, "d", 1000));
    assert_ok(f, parse(f, body, TODO_BODY_CREATE));
    assert_int_equal(strlen(f->in.description), 1000);

    body = apr_psprintf(f->p, "{\"title\":\"t\",\"description\":\"%s\"}",
                        repeat(f->p, "d", 1001));
    assert_problem(f, parse(f, body, TODO_BODY_CREATE), 400, "description",
                   "must be at most 1000 characters");

    /* characters, not bytes: 1000 emoji are 4000 bytes */
    body = apr_psprintf(f->p, "{\"title\":\"t\",\"description\":\"%s\"}",
                        repeat(f->p, "\xF0\x9F\x98\x80", 1000));
    assert_ok(f, parse(f, body, TODO_BODY_CREATE));
    body = apr_psprintf(f->p, "{\"title\":\"t\",\"description\":\"%s\"}",
                        repeat(f->p, "\xC3\xA9", 1001));
    assert_problem(f, parse(f, body, TODO_BODY_CREATE), 400, "description",
                   "must be at most 1000 characters");

    /* empty and blank are allowed; null is null */
    assert_ok(f, parse(f, "{\"title\":\"t\",\"description\":\"\"}",
                       TODO_BODY_CREATE));
    assert_string_equal(f->in.description, "");
    assert_ok(f, parse(f, "{\"title\":\"t\",\"description\":\"  \"}",
                       TODO_BODY_CREATE));
    assert_ok(f, parse(f, "{\"title\":\"t\",\"description\":null}",
                       TODO_BODY_CREATE));
    assert_null(f->in.description);
    assert_true(f->in.present & TODO_F_DESCRIPTION);

    assert_problem(
        f, parse(f, "{\"title\":\"t\",\"description\":5}", TODO_BODY_CREATE),
        422, "description", "must be a string or null");
    assert_problem(
        f,
        parse(f, "{\"title\":\"t\",\"description\":false}", TODO_BODY_CREATE),
        422, "description", "must be a string or null");
}

/* ----------------------------------------------------------- completed */

static void test_completed(void **state)
{
    static const char *const bad[] = {
        "\"true\"", "1", "0", "null", "[]", "\"false\"",
    };
    fixture_t *f = *state;
    apr_size_t i;

    assert_ok(
        f, parse(f, "{\"title\":\"t\",\"completed\":true}", TODO_BODY_CREATE));
    assert_int_equal(f->in.completed, 1);
    assert_true(f->in.present & TODO_F_COMPLETED);
    assert_ok(f, parse(f, "{\"title\":\"t\",\"completed\":false}",
                       TODO_BODY_CREATE));
    assert_int_equal(f->in.completed, 0);
    assert_true(f->in.present & TODO_F_COMPLETED);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *body =
            apr_psprintf(f->p, "{\"title\":\"t\",\"completed\":%s}", bad[i]);

        assert_problem(f, parse(f, body, TODO_BODY_CREATE), 422, "completed",
                       "must be a boolean");
    }
}

/* ------------------------------------------------------------ priority */

static void test_priority_range(void **state)
{
    static const char *const out_of_range[] = {
        "-1",
        "4",
        "100",
        "-9223372036854775808",
        "9223372036854775807",
        "4294967296", /* 0 once narrowed to a 32-bit int */
        "4294967299", /* 3 once narrowed */
        "2147483648",
    };
    fixture_t *f = *state;
    apr_size_t i;
    int v;

    for (v = 0; v <= 3; v++) {
        const char *body =
            apr_psprintf(f->p, "{\"title\":\"t\",\"priority\":%d}", v);

        assert_ok(f, parse(f, body, TODO_BODY_CREATE));
        assert_int_equal(f->in.priority, v);
        assert_true(f->in.present & TODO_F_PRIORITY);
    }
    /* -0 is the integer 0 */
    assert_ok(f,
              parse(f, "{\"title\":\"t\",\"priority\":-0}", TODO_BODY_CREATE));
    assert_int_equal(f->in.priority, 0);
    for (i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); i++) {
        const char *body = apr_psprintf(
            f->p, "{\"title\":\"t\",\"priority\":%s}", out_of_range[i]);

        assert_problem(f, parse(f, body, TODO_BODY_CREATE), 400, "priority",
                       "must be an integer 0-3");
    }
}

static void test_priority_type(void **state)
{
    static const char *const bad[] = {
        "\"1\"", "1.0", "1.5", "1e0", "true", "null", "[1]", "{}",
    };
    fixture_t *f = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *body =
            apr_psprintf(f->p, "{\"title\":\"t\",\"priority\":%s}", bad[i]);

        assert_problem(f, parse(f, body, TODO_BODY_CREATE), 422, "priority",
                       "must be an integer 0-3");
    }
}

static void test_number_out_of_range(void **state)
{
    fixture_t *f = *state;

    /* beyond int64, jansson refuses the whole document */
    assert_body_problem(f,
                        parse(f,
                              "{\"title\":\"t\",\"priority\":"
                              "99999999999999999999}",
                              TODO_BODY_CREATE),
                        "malformed JSON");
    assert_body_detail(f, "number out of range");
    assert_body_problem(
        f, parse(f, "{\"title\":\"t\",\"priority\":1e999}", TODO_BODY_CREATE),
        "malformed JSON");
    assert_body_detail(f, "number out of range");
}

/* -------------------------------------------------------------- due_at */

static void test_due_at(void **state)
{
    static const char *const bad[] = {
        "",
        "tomorrow",
        "2026-02-29T00:00:00Z",
        "2026-11-22",
        "2026-11-22T10:31Z",
        "2026-11-22T10:31:59",
        "2026-11-22 10:31:59Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T10:31:59+24:00",
        "2026-11-22T10:31:59Z ",
    };
    fixture_t *f = *state;
    apr_size_t i;

    assert_ok(f,
              parse(f, "{\"title\":\"t\",\"due_at\":\"2026-11-22T10:31:59Z\"}",
                    TODO_BODY_CREATE));
    assert_string_equal(f->in.due_at, "2026-11-22T10:31:59Z");
    assert_true(f->in.present & TODO_F_DUE_AT);
    assert_ok(f, parse(f,
                       "{\"title\":\"t\",\"due_at\":"
                       "\"2024-02-29t00:00:00.123456+05:30\"}",
                       TODO_BODY_CREATE));
    /* in UTC, whatever the offset */
    assert_string_equal(f->in.due_at, "2024-02-28T18:30:00.123456Z");
    assert_ok(f,
              parse(f, "{\"title\":\"t\",\"due_at\":null}", TODO_BODY_CREATE));
    assert_null(f->in.due_at);
    assert_true(f->in.present & TODO_F_DUE_AT);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *body =
            apr_psprintf(f->p, "{\"title\":\"t\",\"due_at\":\"%s\"}", bad[i]);

        assert_problem(f, parse(f, body, TODO_BODY_CREATE), 400, "due_at",
                       "must be an RFC 3339 date-time or null");
    }
    assert_problem(
        f, parse(f, "{\"title\":\"t\",\"due_at\":123}", TODO_BODY_CREATE), 422,
        "due_at", "must be an RFC 3339 date-time or null");
    assert_problem(
        f, parse(f, "{\"title\":\"t\",\"due_at\":false}", TODO_BODY_CREATE),
        422, "due_at", "must be an RFC 3339 date-time or null");
}

/* ------------------------------------------------ read-only and unknown */

static void test_read_only_fields(void **state)
{
    static const char *const names[] = {
        "id", "user_id", "created_at", "updated_at", "completed_at", "version",
    };
    static const todo_body_kind_e kinds[] = {
        TODO_BODY_CREATE,
        TODO_BODY_REPLACE,
        TODO_BODY_PATCH,
    };
    fixture_t *f = *state;
    apr_size_t i, k;

    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            const char *body =
                apr_psprintf(f->p, "{\"title\":\"t\",\"%s\":\"x\"}", names[i]);

            assert_problem(f, parse(f, body, kinds[k]), 400, names[i],
                           "read-only field");
        }
    }
    /* even with a value of the "right" type */
    assert_problem(
        f, parse(f, "{\"title\":\"t\",\"version\":1}", TODO_BODY_CREATE), 400,
        "version", "read-only field");
}

static void test_unknown_fields(void **state)
{
    fixture_t *f = *state;

    assert_problem(f,
                   parse(f, "{\"title\":\"t\",\"foo\":1}", TODO_BODY_CREATE),
                   400, "foo", "unknown field");
    /* names are case-sensitive */
    assert_problem(
        f, parse(f, "{\"Title\":\"t\",\"title\":\"t\"}", TODO_BODY_CREATE),
        400, "Title", "unknown field");
    assert_problem(f, parse(f, "{\"title\":\"t\",\"\":1}", TODO_BODY_PATCH),
                   400, "", "unknown field");
    assert_problem(f, parse(f, "{\"tags\":[]}", TODO_BODY_PATCH), 400, "tags",
                   "unknown field");
    /* the name is ours to keep after the parse */
    assert_problem(f, parse(f, "{\"caf\\u00e9\":null}", TODO_BODY_PATCH), 400,
                   "caf\xC3\xA9", "unknown field");
}

/* ---------------------------------------------------- several at once */

static void test_several_problems_type_wins(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(parse(f,
                           "{\"title\":5,\"priority\":9,\"id\":\"x\","
                           "\"foo\":1,\"description\":\"ok\","
                           "\"completed\":\"no\"}",
                           TODO_BODY_CREATE),
                     422);
    assert_string_equal(f->message, "invalid field types");
    assert_int_equal(f->details->nelts, 5);
    /* in the order of the body */
    assert_detail_at(f, 0, "title", "must be a string");
    assert_detail_at(f, 1, "priority", "must be an integer 0-3");
    assert_detail_at(f, 2, "id", "read-only field");
    assert_detail_at(f, 3, "foo", "unknown field");
    assert_detail_at(f, 4, "completed", "must be a boolean");
}

static void test_several_problems_values(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(parse(f,
                           "{\"title\":\"\",\"priority\":7,\"bar\":1,"
                           "\"due_at\":\"soon\",\"user_id\":\"u\"}",
                           TODO_BODY_CREATE),
                     400);
    assert_string_equal(f->message, "validation failed");
    assert_int_equal(f->details->nelts, 5);
    assert_detail_at(f, 0, "title", "must be 1-200 characters");
    assert_detail_at(f, 1, "priority", "must be an integer 0-3");
    assert_detail_at(f, 2, "bar", "unknown field");
    assert_detail_at(f, 3, "due_at", "must be an RFC 3339 date-time or null");
    assert_detail_at(f, 4, "user_id", "read-only field");

    /* a missing title is listed with the rest */
    assert_int_equal(parse(f, "{\"priority\":-1}", TODO_BODY_CREATE), 400);
    assert_int_equal(f->details->nelts, 2);
    assert_detail_at(f, 0, "priority", "must be an integer 0-3");
    assert_detail_at(f, 1, "title", "is required");

    /* one type problem among value problems makes it 422 */
    assert_int_equal(
        parse(f, "{\"priority\":\"1\",\"foo\":1}", TODO_BODY_REPLACE), 422);
    assert_int_equal(f->details->nelts, 3);
    assert_detail_at(f, 0, "priority", "must be an integer 0-3");
    assert_detail_at(f, 1, "foo", "unknown field");
    assert_detail_at(f, 2, "title", "is required");
}

static void test_details_may_be_null(void **state)
{
    fixture_t *f = *state;
    const char *msg = NULL;

    assert_int_equal(todo_task_parse(f->p, "{\"title\":5}", 11,
                                     TODO_BODY_CREATE, &f->in, NULL, &msg),
                     422);
    assert_string_equal(msg, "invalid field types");
    assert_int_equal(
        todo_task_parse(f->p, "{", 1, TODO_BODY_CREATE, &f->in, NULL, &msg),
        422);
}

/* ------------------------------------------------ whole-body problems */

static void test_empty_body(void **state)
{
    fixture_t *f = *state;

    assert_body_problem(f, parse_n(f, "", 0, TODO_BODY_CREATE),
                        "request body must be a JSON object");
    assert_body_problem(f, parse_n(f, NULL, 0, TODO_BODY_PATCH),
                        "request body must be a JSON object");
    /* only the first len bytes count */
    assert_body_problem(f,
                        parse_n(f, "{\"title\":\"t\"}", 0, TODO_BODY_CREATE),
                        "request body must be a JSON object");
    assert_body_problem(f, parse(f, "  \n", TODO_BODY_CREATE),
                        "malformed JSON");
}

static void test_not_an_object(void **state)
{
    static const char *const bodies[] = {
        "[]", "[{\"title\":\"t\"}]", "\"title\"", "1", "true", "null",
    };
    fixture_t *f = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_body_problem(f, parse(f, bodies[i], TODO_BODY_CREATE),
                            "request body must be a JSON object");
        assert_body_detail(f, "request body must be a JSON object");
    }
}

static void test_malformed_json(void **state)
{
    static const char *const bodies[] = {
        "{",
        "{\"title\":}",
        "{'title':'t'}",
        "{title:\"t\"}",
        "{\"title\":\"t\",}",
        "nul",
        "{\"title\":\"t\"",
        "{\"title\":\"\\x\"}",
        "{\"title\":\"a\nb\"}",    /* raw control character */
        "{\"title\":\"\\ud800\"}", /* lone surrogate escape */
        "{\"title\":\"t\"} x",     /* trailing garbage */
        "{}{}",
    };
    fixture_t *f = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_body_problem(f, parse(f, bodies[i], TODO_BODY_CREATE),
                            "malformed JSON");
    }
    assert_body_problem(f, parse(f, "{\"title\":\"t\"} x", TODO_BODY_CREATE),
                        "malformed JSON");
    assert_body_detail(f, "unexpected data after the JSON value");
    assert_body_problem(f, parse(f, "{\"title\":}", TODO_BODY_CREATE),
                        "malformed JSON");
    assert_body_detail(f, "malformed JSON");
    /* a NUL byte inside the given length */
    assert_body_problem(
        f, parse_n(f, "{\"title\":\"t\"}\0", 14, TODO_BODY_CREATE),
        "malformed JSON");
    assert_body_problem(
        f, parse_n(f, "{\"title\":\"a\0b\"}", 15, TODO_BODY_CREATE),
        "malformed JSON");
}

static void test_nul_escape(void **state)
{
    fixture_t *f = *state;

    assert_body_problem(
        f, parse(f, "{\"title\":\"a\\u0000b\"}", TODO_BODY_CREATE),
        "malformed JSON");
    assert_body_detail(f, "\\u0000 is not allowed");
    assert_body_problem(f,
                        parse(f,
                              "{\"title\":\"t\",\"description\":"
                              "\"\\u0000\"}",
                              TODO_BODY_CREATE),
                        "malformed JSON");
    assert_body_problem(f, parse(f, "{\"a\\u0000\":1}", TODO_BODY_PATCH),
                        "malformed JSON");
}

static void test_duplicate_keys(void **state)
{
    fixture_t *f = *state;

    assert_body_problem(
        f, parse(f, "{\"title\":\"a\",\"title\":\"b\"}", TODO_BODY_CREATE),
        "malformed JSON");
    assert_body_detail(f, "duplicate member name");
    assert_body_problem(f,
                        parse(f, "{\"completed\":true,\"completed\":true}",
                              TODO_BODY_COMPLETE),
                        "malformed JSON");
}

static void test_invalid_utf8(void **state)
{
    static const char *const bodies[] = {
        "{\"title\":\"\xC3\x28\"}",         /* bad continuation */
        "{\"title\":\"\xC0\xAF\"}",         /* overlong */
        "{\"title\":\"\xED\xA0\x80\"}",     /* surrogate */
        "{\"title\":\"\xF4\x90\x80\x80\"}", /* > U+10FFFF */
        "{\"title\":\"\xC3\"}",             /* truncated */
        "{\"title\":\"\xFF\"}",
        "{\"ti\xC3\x28tle\":\"t\"}", /* in a name */
    };
    fixture_t *f = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_body_problem(f, parse(f, bodies[i], TODO_BODY_CREATE),
                            "body is not valid UTF-8");
        assert_body_detail(f, "body is not valid UTF-8");
    }
}

/* --------------------------------------------------------------- PATCH */

static void test_patch_subsets(void **state)
{
    fixture_t *f = *state;

    assert_ok(f, parse(f, "{\"priority\":2}", TODO_BODY_PATCH));
    assert_int_equal(f->in.present, TODO_F_PRIORITY);
    assert_int_equal(f->in.priority, 2);
    assert_null(f->in.title);

    assert_ok(f, parse(f, "{\"title\":\"new\",\"completed\":true}",
                       TODO_BODY_PATCH));
    assert_int_equal(f->in.present, TODO_F_TITLE | TODO_F_COMPLETED);
    assert_string_equal(f->in.title, "new");
    assert_int_equal(f->in.completed, 1);

    assert_ok(f, parse(f,
                       "{\"title\":\"a\",\"description\":\"b\","
                       "\"completed\":false,\"priority\":1,"
                       "\"due_at\":\"2026-11-22T10:31:59Z\"}",
                       TODO_BODY_PATCH));
    assert_int_equal(f->in.present, TODO_F_ALL);
}

static void test_patch_null_semantics(void **state)
{
    fixture_t *f = *state;

    /* null clears description and due_at */
    assert_ok(f, parse(f, "{\"description\":null}", TODO_BODY_PATCH));
    assert_int_equal(f->in.present, TODO_F_DESCRIPTION);
    assert_null(f->in.description);
    assert_ok(f, parse(f, "{\"due_at\":null}", TODO_BODY_PATCH));
    assert_int_equal(f->in.present, TODO_F_DUE_AT);
    assert_null(f->in.due_at);
    assert_ok(f, parse(f, "{\"due_at\":null,\"description\":null}",
                       TODO_BODY_PATCH));
    assert_int_equal(f->in.present, TODO_F_DUE_AT | TODO_F_DESCRIPTION);

    /* ... and is a type error for the others */
    assert_problem(f, parse(f, "{\"title\":null}", TODO_BODY_PATCH), 422,
                   "title", "must be a string");
    assert_problem(f, parse(f, "{\"completed\":null}", TODO_BODY_PATCH), 422,
                   "completed", "must be a boolean");
    assert_problem(f, parse(f, "{\"priority\":null}", TODO_BODY_PATCH), 422,
                   "priority", "must be an integer 0-3");
}

static void test_patch_empty(void **state)
{
    fixture_t *f = *state;

    assert_problem(f, parse(f, "{}", TODO_BODY_PATCH), 400, NULL,
                   "at least one field is required");
    assert_problem(f, parse(f, " { } ", TODO_BODY_PATCH), 400, NULL,
                   "at least one field is required");
    /* a body that names only a bad field is about that field */
    assert_problem(f, parse(f, "{\"id\":\"x\"}", TODO_BODY_PATCH), 400, "id",
                   "read-only field");
    /* and PATCH needs no title */
    assert_problem(f, parse(f, "{\"title\":\" \"}", TODO_BODY_PATCH), 400,
                   "title", "must not be blank");
}

/* ----------------------------------------------------------------- PUT */

static void test_replace_defaults(void **state)
{
    fixture_t *f = *state;

    assert_ok(f, parse(f, "{\"title\":\"only\"}", TODO_BODY_REPLACE));
    /* everything is replaced: omitted fields take their defaults */
    assert_int_equal(f->in.present, TODO_F_ALL);
    assert_string_equal(f->in.title, "only");
    assert_null(f->in.description);
    assert_int_equal(f->in.completed, 0);
    assert_int_equal(f->in.priority, 0);
    assert_null(f->in.due_at);

    assert_ok(f, parse(f,
                       "{\"title\":\"x\",\"priority\":2,"
                       "\"description\":\"d\",\"completed\":true,"
                       "\"due_at\":\"2026-11-22T10:31:59+01:00\"}",
                       TODO_BODY_REPLACE));
    assert_int_equal(f->in.present, TODO_F_ALL);
    assert_int_equal(f->in.priority, 2);
    assert_string_equal(f->in.description, "d");
    assert_int_equal(f->in.completed, 1);
    assert_string_equal(f->in.due_at, "2026-11-22T09:31:59Z");

    assert_problem(f, parse(f, "{\"priority\":1}", TODO_BODY_REPLACE), 400,
                   "title", "is required");
    assert_problem(f, parse(f, "{}", TODO_BODY_REPLACE), 400, "title",
                   "is required");
}

/* ------------------------------------------------------------ COMPLETE */

static void test_complete_bodies(void **state)
{
    fixture_t *f = *state;

    assert_ok(f, parse(f, "{\"completed\":true}", TODO_BODY_COMPLETE));
    assert_int_equal(f->in.present, TODO_F_COMPLETED);
    assert_int_equal(f->in.completed, 1);
    assert_ok(f, parse(f, "{\"completed\":false}", TODO_BODY_COMPLETE));
    assert_int_equal(f->in.present, TODO_F_COMPLETED);
    assert_int_equal(f->in.completed, 0);

    assert_problem(f, parse(f, "{}", TODO_BODY_COMPLETE), 400, "completed",
                   "is required");
    assert_problem(f, parse(f, "{\"completed\":\"yes\"}", TODO_BODY_COMPLETE),
                   422, "completed", "must be a boolean");
    assert_problem(f, parse(f, "{\"completed\":null}", TODO_BODY_COMPLETE),
                   422, "completed", "must be a boolean");
    assert_problem(f, parse(f, "{\"completed\":1}", TODO_BODY_COMPLETE), 422,
                   "completed", "must be a boolean");
    /* other members: even task fields are unknown here */
    assert_problem(
        f,
        parse(f, "{\"completed\":true,\"title\":\"x\"}", TODO_BODY_COMPLETE),
        400, "title", "unknown field");
    assert_problem(
        f, parse(f, "{\"completed\":true,\"priority\":1}", TODO_BODY_COMPLETE),
        400, "priority", "unknown field");
    assert_problem(
        f, parse(f, "{\"completed\":true,\"foo\":1}", TODO_BODY_COMPLETE), 400,
        "foo", "unknown field");
    assert_problem(
        f, parse(f, "{\"completed\":true,\"version\":1}", TODO_BODY_COMPLETE),
        400, "version", "read-only field");

    assert_int_equal(parse(f, "{\"title\":\"x\"}", TODO_BODY_COMPLETE), 400);
    assert_int_equal(f->details->nelts, 2);
    assert_detail_at(f, 0, "title", "unknown field");
    assert_detail_at(f, 1, "completed", "is required");

    assert_body_problem(f, parse(f, "true", TODO_BODY_COMPLETE),
                        "request body must be a JSON object");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_minimal),
        T(test_create_all_fields),
        T(test_strings_outlive_parse),
        T(test_create_title_required),
        T(test_title_length_ascii),
        T(test_title_length_2byte),
        T(test_title_length_3byte),
        T(test_title_length_4byte),
        T(test_title_length_escaped),
        T(test_title_blank),
        T(test_title_type),
        T(test_description),
        T(test_completed),
        T(test_priority_range),
        T(test_priority_type),
        T(test_number_out_of_range),
        T(test_due_at),
        T(test_read_only_fields),
        T(test_unknown_fields),
        T(test_several_problems_type_wins),
        T(test_several_problems_values),
        T(test_details_may_be_null),
        T(test_empty_body),
        T(test_not_an_object),
        T(test_malformed_json),
        T(test_nul_escape),
        T(test_duplicate_keys),
        T(test_invalid_utf8),
        T(test_patch_subsets),
        T(test_patch_null_semantics),
        T(test_patch_empty),
        T(test_replace_defaults),
        T(test_complete_bodies),
    };
#undef T
    return TODO_TEST_MAIN("todo_task", tests, NULL, NULL);
}
