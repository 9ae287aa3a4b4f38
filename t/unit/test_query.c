/* Unit tests of todo_query_parse and todo_query_sort_name: every status
 * and sort spelling, page bounds, decoding, repeated and unknown
 * parameters. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "todo_test.h"
#include "todo_query.h"
#include "todo_task.h"

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *details;
    todo_list_query_t q;
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

/* Defaults of docs/api.md §5: page size 50, at most 100. */
static int parse(fixture_t *f, const char *args)
{
    f->details = apr_array_make(f->p, 2, sizeof(todo_detail_t));
    return todo_query_parse(f->p, args, 50, 100, &f->q, f->details);
}

static void assert_ok(fixture_t *f, const char *args)
{
    int status = parse(f, args);

    if (status != 0) {
        const todo_detail_t *d =
            f->details->nelts ? &APR_ARRAY_IDX(f->details, 0, todo_detail_t)
                              : NULL;

        fail_msg("[%s]: status %d (%s: %s)", args ? args : "(null)", status,
                 d && d->field ? d->field : "-", d ? d->message : "-");
    }
    assert_int_equal(f->details->nelts, 0);
}

static int str_equal(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void assert_detail_at(fixture_t *f, int i, const char *field,
                             const char *message)
{
    const todo_detail_t *d;

    if (i >= f->details->nelts) {
        fail_msg("detail %d missing (have %d)", i, f->details->nelts);
    }
    d = &APR_ARRAY_IDX(f->details, i, todo_detail_t);
    if (!str_equal(d->field, field) || !str_equal(d->message, message)) {
        fail_msg("detail %d: want %s: %s, got %s: %s", i,
                 field ? field : "(none)", message,
                 d->field ? d->field : "(none)",
                 d->message ? d->message : "(null)");
    }
}

/* args -> 400 with exactly one detail (field, message). */
static void assert_bad(fixture_t *f, const char *args, const char *field,
                       const char *message)
{
    int status = parse(f, args);

    if (status != 400) {
        fail_msg("[%s]: want 400, got %d", args, status);
    }
    if (f->details->nelts != 1) {
        fail_msg("[%s]: want 1 detail, got %d", args, f->details->nelts);
    }
    assert_detail_at(f, 0, field, message);
}

static void assert_defaults(const todo_list_query_t *q)
{
    assert_int_equal(q->status, TODO_STATUS_ALL);
    assert_int_equal(q->sort, TODO_SORT_CREATED_DESC);
    assert_int_equal(q->limit, 50);
    assert_int_equal(q->offset, 0);
    assert_null(q->q);
    assert_null(q->due_before);
    assert_null(q->due_after);
    assert_null(q->updated_since);
    assert_null(q->cursor);
}

#define M_STATUS "must be one of pending, completed, all"
#define M_SORT                                                  \
    "must be one of created_at, updated_at, due_at, priority, " \
    "title, each optionally prefixed by '-' for descending, "   \
    "or created_at_asc, created_at_desc"
#define M_LIMIT "must be an integer 1-100"
#define M_OFFSET "must be an integer 0-1000000000"
#define M_TIME "must be an RFC 3339 date-time"

/* ------------------------------------------------------------- defaults */

static void test_defaults(void **state)
{
    static const char *const empty[] = { "", "&", "&&", "&&&" };
    fixture_t *f = *state;
    apr_size_t i;

    assert_ok(f, NULL);
    assert_defaults(&f->q);
    for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        assert_ok(f, empty[i]);
        assert_defaults(&f->q);
    }
    /* the default page size is the caller's */
    f->details = apr_array_make(f->p, 2, sizeof(todo_detail_t));
    assert_int_equal(todo_query_parse(f->p, NULL, 20, 30, &f->q, f->details),
                     0);
    assert_int_equal(f->q.limit, 20);
}

static void test_all_parameters(void **state)
{
    fixture_t *f = *state;

    assert_ok(f, "status=pending&sort=-priority&limit=10&offset=20&q=milk"
                 "&due_before=2026-12-01T00:00:00Z"
                 "&due_after=2026-11-01T00:00:00Z"
                 "&updated_since=2026-11-22T10:31:59.979377Z&");
    assert_int_equal(f->q.status, TODO_STATUS_PENDING);
    assert_int_equal(f->q.sort, TODO_SORT_PRIORITY_DESC);
    assert_int_equal(f->q.limit, 10);
    assert_int_equal(f->q.offset, 20);
    assert_string_equal(f->q.q, "milk");
    assert_string_equal(f->q.due_before, "2026-12-01T00:00:00Z");
    assert_string_equal(f->q.due_after, "2026-11-01T00:00:00Z");
    assert_string_equal(f->q.updated_since, "2026-11-22T10:31:59.979377Z");
}

/* --------------------------------------------------------------- status */

static void test_status_spellings(void **state)
{
    static const struct {
        const char *value;
        todo_status_e status;
    } ok[] = {
        { "pending", TODO_STATUS_PENDING },
        { "Pending", TODO_STATUS_PENDING },
        { "PENDING", TODO_STATUS_PENDING },
        { "pEnDiNg", TODO_STATUS_PENDING },
        { "completed", TODO_STATUS_COMPLETED },
        { "Completed", TODO_STATUS_COMPLETED },
        { "COMPLETED", TODO_STATUS_COMPLETED },
        { "all", TODO_STATUS_ALL },
        { "All", TODO_STATUS_ALL },
        { "ALL", TODO_STATUS_ALL },
        { "%50ending", TODO_STATUS_PENDING }, /* decoded first */
    };
    static const char *const bad[] = {
        "",    "done",     "pend",     "pendingx", "complete", "open",
        "any", "+pending", "pending+", "all%00",   "%00",      "*",
    };
    fixture_t *f = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *args = apr_psprintf(f->p, "status=%s", ok[i].value);

        assert_ok(f, args);
        assert_int_equal(f->q.status, ok[i].status);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad(f, apr_psprintf(f->p, "status=%s", bad[i]), "status",
                   M_STATUS);
    }
    assert_bad(f, "status", "status", M_STATUS);
}

/* ----------------------------------------------------------------- sort */

static void test_sort_names(void **state)
{
    static const struct {
        const char *value;
        todo_sort_e sort;
    } ok[] = {
        { "created_at", TODO_SORT_CREATED_ASC },
        { "-created_at", TODO_SORT_CREATED_DESC },
        { "updated_at", TODO_SORT_UPDATED_ASC },
        { "-updated_at", TODO_SORT_UPDATED_DESC },
        { "due_at", TODO_SORT_DUE_ASC },
        { "-due_at", TODO_SORT_DUE_DESC },
        { "priority", TODO_SORT_PRIORITY_ASC },
        { "-priority", TODO_SORT_PRIORITY_DESC },
        { "title", TODO_SORT_TITLE_ASC },
        { "-title", TODO_SORT_TITLE_DESC },
        { "created_at_asc", TODO_SORT_CREATED_ASC },
        { "created_at_desc", TODO_SORT_CREATED_DESC },
        { "%2Dtitle", TODO_SORT_TITLE_DESC },
    };
    static const char *const bad[] = {
        "",
        "Title",
        "TITLE",
        "-Title",
        "+title",
        "%2Btitle",
        "--title",
        "created",
        "created_at_ASC",
        "-created_at_asc",
        "title_asc",
        "updated_at_desc",
        "id",
        "user_id",
        " title",
        "title%00",
        "title,priority",
        "completed",
    };
    fixture_t *f = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_ok(f, apr_psprintf(f->p, "sort=%s", ok[i].value));
        assert_int_equal(f->q.sort, ok[i].sort);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad(f, apr_psprintf(f->p, "sort=%s", bad[i]), "sort", M_SORT);
    }
}

static void test_sort_canonical_names(void **state)
{
    fixture_t *f = *state;
    int i;

    assert_string_equal(todo_query_sort_name(TODO_SORT_CREATED_DESC),
                        "-created_at");
    assert_string_equal(todo_query_sort_name(TODO_SORT_CREATED_ASC),
                        "created_at");
    assert_string_equal(todo_query_sort_name(TODO_SORT_UPDATED_ASC),
                        "updated_at");
    assert_string_equal(todo_query_sort_name(TODO_SORT_UPDATED_DESC),
                        "-updated_at");
    assert_string_equal(todo_query_sort_name(TODO_SORT_DUE_ASC), "due_at");
    assert_string_equal(todo_query_sort_name(TODO_SORT_DUE_DESC), "-due_at");
    assert_string_equal(todo_query_sort_name(TODO_SORT_PRIORITY_ASC),
                        "priority");
    assert_string_equal(todo_query_sort_name(TODO_SORT_PRIORITY_DESC),
                        "-priority");
    assert_string_equal(todo_query_sort_name(TODO_SORT_TITLE_ASC), "title");
    assert_string_equal(todo_query_sort_name(TODO_SORT_TITLE_DESC), "-title");
    assert_null(todo_query_sort_name(TODO_SORT_COUNT));
    assert_null(todo_query_sort_name((todo_sort_e)-1));
    /* every canonical name parses back to its sort */
    for (i = 0; i < TODO_SORT_COUNT; i++) {
        assert_ok(f, apr_psprintf(f->p, "sort=%s",
                                  todo_query_sort_name((todo_sort_e)i)));
        assert_int_equal(f->q.sort, i);
    }
}

/* ---------------------------------------------------------- limit/offset */

static void test_limit(void **state)
{
    static const char *const bad[] = {
        "",
        "0",
        "101",
        "+5",
        "5x",
        "x5",
        "-1",
        " 5",
        "5 ",
        "5.0",
        "1e2",
        "0x10",
        "99999999999999999999999",
        "1000",
        "5%00",
        "%2B5",
    };
    fixture_t *f = *state;
    apr_size_t i;

    assert_ok(f, "limit=1");
    assert_int_equal(f->q.limit, 1);
    assert_ok(f, "limit=100");
    assert_int_equal(f->q.limit, 100);
    assert_ok(f, "limit=007");
    assert_int_equal(f->q.limit, 7);
    assert_ok(f, "limit=%35"); /* "5", encoded */
    assert_int_equal(f->q.limit, 5);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad(f, apr_psprintf(f->p, "limit=%s", bad[i]), "limit",
                   M_LIMIT);
    }
    assert_bad(f, "limit", "limit", M_LIMIT);
}

static void test_limit_follows_max(void **state)
{
    fixture_t *f = *state;
    const todo_detail_t *d;

    f->details = apr_array_make(f->p, 2, sizeof(todo_detail_t));
    assert_int_equal(
        todo_query_parse(f->p, "limit=10", 5, 10, &f->q, f->details), 0);
    assert_int_equal(f->q.limit, 10);
    assert_int_equal(
        todo_query_parse(f->p, "limit=11", 5, 10, &f->q, f->details), 400);
    d = &APR_ARRAY_IDX(f->details, 0, todo_detail_t);
    assert_string_equal(d->field, "limit");
    assert_string_equal(d->message, "must be an integer 1-10");
}

static void test_offset(void **state)
{
    static const char *const bad[] = {
        "",    "-1", "+0", "1000000001", "9999999999999999999999",
        "1e3", "x",  "1 ", "0x1",        "%00",
    };
    fixture_t *f = *state;
    apr_size_t i;

    assert_ok(f, "offset=0");
    assert_int_equal(f->q.offset, 0);
    assert_ok(f, "offset=1");
    assert_int_equal(f->q.offset, 1);
    assert_ok(f, "offset=1000000000");
    assert_int_equal(f->q.offset, TODO_OFFSET_MAX);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad(f, apr_psprintf(f->p, "offset=%s", bad[i]), "offset",
                   M_OFFSET);
    }
}

/* -------------------------------------------------------------------- q */

static void test_q_decoding(void **state)
{
    fixture_t *f = *state;

    assert_ok(f, "q=caf%C3%A9");
    assert_string_equal(f->q.q, "caf\xC3\xA9");
    assert_ok(f, "q=caf%c3%a9"); /* lower-case hex too */
    assert_string_equal(f->q.q, "caf\xC3\xA9");
    assert_ok(f, "q=a+b");
    assert_string_equal(f->q.q, "a b");
    assert_ok(f, "q=a%20b");
    assert_string_equal(f->q.q, "a b");
    assert_ok(f, "q=1%2B1");
    assert_string_equal(f->q.q, "1+1");
    assert_ok(f, "q=100%25");
    assert_string_equal(f->q.q, "100%");
    assert_ok(f, "q=a%26b%3Dc"); /* & and = inside a value */
    assert_string_equal(f->q.q, "a&b=c");
    assert_ok(f, "q=x=y"); /* only the first = splits */
    assert_string_equal(f->q.q, "x=y");
    assert_ok(f, "q=%27%3B%20DROP%20TABLE%20tasks%3B--");
    assert_string_equal(f->q.q, "'; DROP TABLE tasks;--");
    assert_ok(f, "q=%F0%9F%98%80");
    assert_string_equal(f->q.q, "\xF0\x9F\x98\x80");
    assert_ok(f, "q=caf\xC3\xA9"); /* raw UTF-8 */
    assert_string_equal(f->q.q, "caf\xC3\xA9");
    assert_ok(f, "q=+"); /* a space is something */
    assert_string_equal(f->q.q, " ");
}

static void test_q_empty(void **state)
{
    fixture_t *f = *state;

    assert_ok(f, "q=");
    assert_null(f->q.q);
    assert_ok(f, "q");
    assert_null(f->q.q);
    assert_ok(f, "q=&status=pending");
    assert_null(f->q.q);
    assert_int_equal(f->q.status, TODO_STATUS_PENDING);
}

static void test_q_bad(void **state)
{
    fixture_t *f = *state;

    assert_bad(f, "q=%ZZ", "q", "malformed percent-encoding");
    assert_bad(f, "q=%", "q", "malformed percent-encoding");
    assert_bad(f, "q=abc%", "q", "malformed percent-encoding");
    assert_bad(f, "q=%4", "q", "malformed percent-encoding");
    assert_bad(f, "q=%4G", "q", "malformed percent-encoding");
    assert_bad(f, "q=%%41", "q", "malformed percent-encoding");
    assert_bad(f, "q=%C3%28", "q", "must be valid UTF-8");
    assert_bad(f, "q=%C3", "q", "must be valid UTF-8");
    assert_bad(f, "q=%C0%AF", "q", "must be valid UTF-8");
    assert_bad(f, "q=%ED%A0%80", "q", "must be valid UTF-8");
    assert_bad(f, "q=\xC3\x28", "q", "must be valid UTF-8");
    assert_bad(f, "q=%FF", "q", "must be valid UTF-8");
    assert_bad(f, "q=%00", "q", "must not contain control characters");
    assert_bad(f, "q=a%00b", "q", "must not contain control characters");
    assert_bad(f, "q=a%0Ab", "q", "must not contain control characters");
    assert_bad(f, "q=%09", "q", "must not contain control characters");
    assert_bad(f, "q=%1F", "q", "must not contain control characters");
    assert_bad(f, "q=%7F", "q", "must not contain control characters");
    assert_bad(f, "q=%C2%85", "q", "must not contain control characters");
    assert_bad(f, "q=%C2%9F", "q", "must not contain control characters");
    /* U+00A0 right after the C1 block is fine */
    assert_ok(f, "q=%C2%A0");
    assert_string_equal(f->q.q, "\xC2\xA0");
}

static void test_q_length(void **state)
{
    fixture_t *f = *state;
    char *s200 = apr_palloc(f->p, 200 * 9 + 1), *o;
    int i;

    /* 200 characters of 3 bytes each, percent-encoded: 1800 bytes. */
    for (o = s200, i = 0; i < 200; i++, o += 9) {
        memcpy(o, "%E6%97%A5", 9);
    }
    *o = '\0';
    assert_ok(f, apr_pstrcat(f->p, "q=", s200, NULL));
    assert_int_equal(strlen(f->q.q), 600);
    assert_bad(f, apr_pstrcat(f->p, "q=", s200, "x", NULL), "q",
               "must be at most 200 characters");
    assert_ok(f,
              apr_pstrcat(f->p, "q=", apr_psprintf(f->p, "%0200d", 0), NULL));
    assert_bad(f,
               apr_pstrcat(f->p, "q=", apr_psprintf(f->p, "%0201d", 0), NULL),
               "q", "must be at most 200 characters");
}

/* ---------------------------------------------------------------- times */

static void test_time_filters(void **state)
{
    static const char *const names[] = {
        "due_before",
        "due_after",
        "updated_since",
    };
    fixture_t *f = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *n = names[i];
        const char **got = i == 0   ? &f->q.due_before
                           : i == 1 ? &f->q.due_after
                                    : &f->q.updated_since;

        assert_ok(f, apr_psprintf(f->p, "%s=2026-11-22T10:31:59Z", n));
        assert_string_equal(*got, "2026-11-22T10:31:59Z");
        /* lower-case t/z normalized; '+' must be sent as %2B */
        assert_ok(f, apr_psprintf(f->p, "%s=2026-11-22t10:31:59.5z", n));
        assert_string_equal(*got, "2026-11-22T10:31:59.5Z");
        assert_ok(f, apr_psprintf(f->p, "%s=2024-02-29T00:00:00%%2B05:30", n));
        assert_string_equal(*got, "2024-02-28T18:30:00Z"); /* in UTC */
        assert_ok(f,
                  apr_psprintf(f->p, "%s=2026-11-22T10%%3A31%%3A59-01:00", n));
        assert_string_equal(*got, "2026-11-22T11:31:59Z");

        /* a raw '+' decodes to a space */
        assert_bad(f, apr_psprintf(f->p, "%s=2024-02-29T00:00:00+05:30", n), n,
                   M_TIME);
        assert_bad(f, apr_psprintf(f->p, "%s=", n), n, M_TIME);
        assert_bad(f, apr_psprintf(f->p, "%s=2026-11-22", n), n, M_TIME);
        assert_bad(f, apr_psprintf(f->p, "%s=2026-02-29T00:00:00Z", n), n,
                   M_TIME);
        assert_bad(f, apr_psprintf(f->p, "%s=yesterday", n), n, M_TIME);
        /* nothing may hide behind a NUL */
        assert_bad(f, apr_psprintf(f->p, "%s=2026-11-22T10:31:59Z%%00x", n), n,
                   M_TIME);
        assert_bad(f, apr_psprintf(f->p, "%s=2026-11-22T10:31:59Z%%0", n), n,
                   "malformed percent-encoding");
    }
}

/* ------------------------------------------------ names and repetition */

static void test_repeated(void **state)
{
    fixture_t *f = *state;

    assert_bad(f, "limit=5&limit=5", "limit", "given more than once");
    assert_bad(f, "status=all&status=pending", "status",
               "given more than once");
    assert_bad(f, "q=a&sort=title&q=b", "q", "given more than once");
    assert_bad(f, "q=&q=", "q", "given more than once");
    assert_bad(f,
               "due_before=2026-11-22T10:31:59Z&"
               "due_before=2026-11-22T10:31:59Z",
               "due_before", "given more than once");
    /* the same name, one of them encoded */
    assert_bad(f, "sort=title&%73ort=title", "sort", "given more than once");
}

static void test_unknown(void **state)
{
    fixture_t *f = *state;

    assert_bad(f, "foo=1", "foo", "unknown parameter");
    assert_bad(f, "foo", "foo", "unknown parameter");
    assert_bad(f, "Limit=5", "Limit", "unknown parameter");
    assert_bad(f, "STATUS=all", "STATUS", "unknown parameter");
    assert_bad(f, "user_id=abc", "user_id", "unknown parameter");
    assert_bad(f, "page=2", "page", "unknown parameter");
    assert_bad(f, "=5", "", "unknown parameter");
    assert_bad(f, "status%3Dall", "status=all", "unknown parameter");
    assert_bad(f, "limit;offset=1", "limit;offset", "unknown parameter");
    assert_bad(f, "caf%C3%A9=1", "caf\xC3\xA9", "unknown parameter");
    /* names are decoded too */
    assert_ok(f, "st%61tus=pending");
    assert_int_equal(f->q.status, TODO_STATUS_PENDING);
    /* a name we cannot even decode */
    assert_bad(f, "%ZZ=1", NULL, "malformed parameter name");
    assert_bad(f, "%C3%28=1", NULL, "malformed parameter name");
    assert_bad(f, "\xFF=1", NULL, "malformed parameter name");
}

static void test_several_problems(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(parse(f, "limit=0&offset=-1&foo=1&status=x&sort=x"
                              "&q=%ZZ&limit=3&due_after=x"),
                     400);
    assert_int_equal(f->details->nelts, 8);
    assert_detail_at(f, 0, "limit", M_LIMIT);
    assert_detail_at(f, 1, "offset", M_OFFSET);
    assert_detail_at(f, 2, "foo", "unknown parameter");
    assert_detail_at(f, 3, "status", M_STATUS);
    assert_detail_at(f, 4, "sort", M_SORT);
    assert_detail_at(f, 5, "q", "malformed percent-encoding");
    assert_detail_at(f, 6, "limit", "given more than once");
    assert_detail_at(f, 7, "due_after", M_TIME);
}

static void test_details_may_be_null(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(todo_query_parse(f->p, "limit=0", 50, 100, &f->q, NULL),
                     400);
    assert_int_equal(todo_query_parse(f->p, "limit=2", 50, 100, &f->q, NULL),
                     0);
    assert_int_equal(f->q.limit, 2);
}

static void test_args_left_alone(void **state)
{
    fixture_t *f = *state;
    const char *args = "q=a+b%20c&status=Pending";
    char *copy = apr_pstrdup(f->p, args);

    /* decoding happens in a copy, not in r->args */
    assert_ok(f, copy);
    assert_string_equal(copy, args);
    assert_string_equal(f->q.q, "a b c");
}

/* -------------------------------------------------------------- cursor */

static void test_cursor(void **state)
{
    fixture_t *f = *state;
    char *long_cursor = apr_palloc(f->p, TODO_QUERY_TOKEN_MAX + 2);

    assert_ok(f, "cursor=AQgPAK53yU-_Cx&sort=title");
    assert_string_equal(f->q.cursor, "AQgPAK53yU-_Cx");
    assert_int_equal(f->q.sort, TODO_SORT_TITLE_ASC);
    /* Whether it is genuine is decided with the key (todo_cursor). */
    assert_bad(f, "cursor=", "cursor",
               "must be the next_cursor of an earlier "
               "answer");
    assert_bad(f, "cursor=a+b", "cursor",
               "must be the next_cursor of an earlier answer");
    assert_bad(f, "cursor=a%2Fb", "cursor",
               "must be the next_cursor of an earlier answer");
    assert_bad(f, "cursor=ab==", "cursor",
               "must be the next_cursor of an earlier answer");
    memset(long_cursor, 'A', TODO_QUERY_TOKEN_MAX);
    long_cursor[TODO_QUERY_TOKEN_MAX] = '\0';
    assert_ok(f, apr_pstrcat(f->p, "cursor=", long_cursor, NULL));
    long_cursor[TODO_QUERY_TOKEN_MAX] = 'A';
    long_cursor[TODO_QUERY_TOKEN_MAX + 1] = '\0';
    assert_bad(f, apr_pstrcat(f->p, "cursor=", long_cursor, NULL), "cursor",
               "must be the next_cursor of an earlier answer");
    /* A cursor says where the page starts; so would an offset. */
    assert_bad(f, "cursor=abc&offset=0", "cursor",
               "cannot be combined with offset");
    assert_bad(f, "offset=10&cursor=abc", "cursor",
               "cannot be combined with offset");
    assert_bad(f, "cursor=a&cursor=b", "cursor", "given more than once");
}

/* The query of the next page, for the Link header: canonical spellings,
 * percent-encoded, no offset. */
static void test_next(void **state)
{
    fixture_t *f = *state;

    assert_ok(f, NULL);
    assert_string_equal(todo_query_next(f->p, &f->q, "C1"),
                        "sort=-created_at&limit=50&cursor=C1");
    assert_ok(f, "status=Pending&sort=created_at_asc&limit=7&offset=14"
                 "&q=milk+%26+honey%2Fx&due_before=2026-12-01T01:00:00%2B01:00"
                 "&due_after=2026-11-01T00:00:00Z"
                 "&updated_since=2026-11-22T10:31:59.5Z");
    assert_string_equal(
        todo_query_next(f->p, &f->q, "C-_2"),
        "status=pending&sort=created_at&limit=7&q=milk%20%26%20honey%2Fx"
        "&due_before=2026-12-01T00%3A00%3A00Z"
        "&due_after=2026-11-01T00%3A00%3A00Z"
        "&updated_since=2026-11-22T10%3A31%3A59.5Z&cursor=C-_2");
    /* ... which parses to the same query. */
    {
        todo_list_query_t first = f->q;

        assert_ok(f, todo_query_next(f->p, &first, "C-_2"));
        assert_int_equal(f->q.status, first.status);
        assert_int_equal(f->q.sort, first.sort);
        assert_int_equal(f->q.limit, first.limit);
        assert_string_equal(f->q.q, first.q);
        assert_string_equal(f->q.due_before, first.due_before);
        assert_string_equal(f->q.due_after, first.due_after);
        assert_string_equal(f->q.updated_since, first.updated_since);
        assert_string_equal(f->q.cursor, "C-_2");
        assert_int_equal(f->q.offset, 0);
    }
}

/* ------------------------------------------------------------- changes */

static int parse_changes(fixture_t *f, const char *args,
                         todo_changes_query_t *q)
{
    f->details = apr_array_make(f->p, 2, sizeof(todo_detail_t));
    return todo_query_parse_changes(f->p, args, 50, 100, q, f->details);
}

static void test_changes(void **state)
{
    fixture_t *f = *state;
    todo_changes_query_t q;

    assert_int_equal(parse_changes(f, NULL, &q), 0);
    assert_null(q.since);
    assert_int_equal(q.limit, 50);
    assert_int_equal(parse_changes(f, "since=AQ-_x&limit=7&", &q), 0);
    assert_string_equal(q.since, "AQ-_x");
    assert_int_equal(q.limit, 7);
    assert_int_equal(parse_changes(f, "limit=100", &q), 0);
    assert_int_equal(q.limit, 100);

    assert_int_equal(parse_changes(f, "limit=101", &q), 400);
    assert_detail_at(f, 0, "limit", M_LIMIT);
    assert_int_equal(parse_changes(f, "limit=0", &q), 400);
    assert_int_equal(parse_changes(f, "since=", &q), 400);
    assert_detail_at(f, 0, "since",
                     "must be the next_token of an earlier answer");
    assert_int_equal(parse_changes(f, "since=a.b", &q), 400);
    assert_int_equal(parse_changes(f, "since=a&since=b", &q), 400);
    assert_detail_at(f, 0, "since", "given more than once");
    assert_int_equal(parse_changes(f, "cursor=a", &q), 400);
    assert_detail_at(f, 0, "cursor", "unknown parameter");
    assert_int_equal(parse_changes(f, "offset=1&limit=x", &q), 400);
    assert_int_equal(f->details->nelts, 2);
    assert_int_equal(parse_changes(f, "%zz=1", &q), 400);
    assert_detail_at(f, 0, NULL, "malformed parameter name");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_all_parameters),
        T(test_status_spellings),
        T(test_sort_names),
        T(test_sort_canonical_names),
        T(test_limit),
        T(test_limit_follows_max),
        T(test_offset),
        T(test_q_decoding),
        T(test_q_empty),
        T(test_q_bad),
        T(test_q_length),
        T(test_time_filters),
        T(test_repeated),
        T(test_unknown),
        T(test_several_problems),
        T(test_details_may_be_null),
        T(test_args_left_alone),
        T(test_cursor),
        T(test_next),
        T(test_changes),
    };
#undef T
    return TODO_TEST_MAIN("todo_query", tests, NULL, NULL);
}
