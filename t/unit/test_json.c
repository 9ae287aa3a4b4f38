/* Unit tests of todo_json: the envelope, error bodies, status codes and
 * the task object.  Every output is compared byte for byte and also
 * re-parsed with jansson to prove it is valid JSON. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "todo_test.h"
#include "todo_json.h"

static const todo_meta_t meta = { "req-1", "2026-11-22T10:31:59.979377Z" };

#define META_JSON                         \
    "\"meta\":{\"request_id\":\"req-1\"," \
    "\"timestamp\":\"2026-11-22T10:31:59.979377Z\"}"

/* Parse the buffer with jansson (strict: no duplicates, exactly one
 * value) and hand back the tree; fails the test when it is not JSON. */
static json_t *assert_json(todo_buf_t *b)
{
    json_error_t err;
    json_t *root = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        fail_msg("not JSON (%s): %s", err.text, todo_buf_cstr(b));
    }
    return root;
}

static void test_data_envelope(void **state)
{
    todo_buf_t b;
    json_t *root;

    todo_buf_init(&b, *state, 0);
    todo_json_data_begin(&b);
    todo_buf_puts(&b, "{\"status\":\"healthy\"}");
    todo_json_data_end(&b, &meta);
    assert_string_equal(
        todo_buf_cstr(&b),
        "{\"data\":{\"status\":\"healthy\"},\"error\":null," META_JSON "}");
    root = assert_json(&b);
    assert_true(json_is_null(json_object_get(root, "error")));
    json_decref(root);
}

static void test_data_envelope_escapes_meta(void **state)
{
    todo_buf_t b;
    todo_meta_t m = { "a\"b\\c\n", "t" };
    json_t *root;

    todo_buf_init(&b, *state, 0);
    todo_json_data_begin(&b);
    todo_buf_puts(&b, "[]");
    todo_json_data_end(&b, &m);
    assert_string_equal(todo_buf_cstr(&b),
                        "{\"data\":[],\"error\":null,\"meta\":{\"request_id\":"
                        "\"a\\\"b\\\\c\\n\",\"timestamp\":\"t\"}}");
    root = assert_json(&b);
    json_decref(root);
}

static void test_error_with_details(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *details = apr_array_make(p, 2, sizeof(todo_detail_t));
    todo_detail_t *d;
    todo_buf_t b;
    json_t *root, *arr;

    d = apr_array_push(details);
    d->field = "title";
    d->message = "must be 1-200 characters";
    d = apr_array_push(details);
    d->field = NULL; /* about the body as a whole */
    d->message = "malformed JSON";
    d = apr_array_push(details);
    d->field = "we\"ird";
    d->message = "unknown \"field\"";

    todo_buf_init(&b, p, 0);
    todo_json_error(&b, "VALIDATION_ERROR", "validation failed", details,
                    &meta);
    assert_string_equal(
        todo_buf_cstr(&b),
        "{\"data\":null,\"error\":{\"code\":\"VALIDATION_ERROR\","
        "\"message\":\"validation failed\",\"details\":["
        "{\"field\":\"title\",\"message\":\"must be 1-200 characters\"},"
        "{\"message\":\"malformed JSON\"},"
        "{\"field\":\"we\\\"ird\",\"message\":\"unknown \\\"field\\\"\"}]}," META_JSON
        "}");
    root = assert_json(&b);
    arr = json_object_get(json_object_get(root, "error"), "details");
    assert_int_equal(json_array_size(arr), 3);
    assert_null(json_object_get(json_array_get(arr, 1), "field"));
    json_decref(root);
}

static void test_error_without_details(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *empty = apr_array_make(p, 1, sizeof(todo_detail_t));
    const char *want = "{\"data\":null,\"error\":{\"code\":\"NOT_FOUND\","
                       "\"message\":\"no such task\"}," META_JSON "}";
    todo_buf_t b;
    json_t *root;

    todo_buf_init(&b, p, 0);
    todo_json_error(&b, "NOT_FOUND", "no such task", NULL, &meta);
    assert_string_equal(todo_buf_cstr(&b), want);
    root = assert_json(&b);
    json_decref(root);

    todo_buf_init(&b, p, 0);
    todo_json_error(&b, "NOT_FOUND", "no such task", empty, &meta);
    assert_string_equal(todo_buf_cstr(&b), want);
}

static void test_error_escapes_message(void **state)
{
    todo_buf_t b;
    json_t *root;

    todo_buf_init(&b, *state, 0);
    todo_json_error(&b, "X", "a\"b\\c\x01\t", NULL, &meta);
    assert_string_equal(todo_buf_cstr(&b),
                        "{\"data\":null,\"error\":{\"code\":\"X\","
                        "\"message\":\"a\\\"b\\\\c\\u0001\\t\"}," META_JSON
                        "}");
    root = assert_json(&b);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "error"), "message")),
                        "a\"b\\c\x01\t");
    json_decref(root);
}

static void test_status_codes(void **state)
{
    static const struct {
        int status;
        const char *code;
    } table[] = {
        { 400, "VALIDATION_ERROR" },
        { 401, "UNAUTHORIZED" },
        { 403, "FORBIDDEN" },
        { 404, "NOT_FOUND" },
        { 405, "METHOD_NOT_ALLOWED" },
        { 412, "PRECONDITION_FAILED" },
        { 413, "PAYLOAD_TOO_LARGE" },
        { 415, "UNSUPPORTED_MEDIA_TYPE" },
        { 422, "UNPROCESSABLE_ENTITY" },
        { 503, "SERVICE_UNAVAILABLE" },
        { 500, "INTERNAL_ERROR" },
        { 501, "INTERNAL_ERROR" },
        { 502, "INTERNAL_ERROR" },
        { 504, "INTERNAL_ERROR" },
        { 599, "INTERNAL_ERROR" },
        { 402, "BAD_REQUEST" },
        { 406, "BAD_REQUEST" },
        { 408, "BAD_REQUEST" },
        { 409, "CONFLICT" },
        { 411, "BAD_REQUEST" },
        { 414, "BAD_REQUEST" },
        { 418, "BAD_REQUEST" },
        { 429, "TOO_MANY_REQUESTS" },
        { 431, "BAD_REQUEST" },
        { 499, "BAD_REQUEST" },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const char *m = todo_json_status_message(table[i].status);

        assert_string_equal(todo_json_status_code(table[i].status),
                            table[i].code);
        assert_non_null(m);
        assert_true(strlen(m) > 0);
    }
    /* Each mapped status has a message of its own. */
    assert_string_not_equal(todo_json_status_message(404),
                            todo_json_status_message(401));
    assert_string_not_equal(todo_json_status_message(503),
                            todo_json_status_message(500));
}

static todo_task_t sample_task(void)
{
    todo_task_t t;

    memset(&t, 0, sizeof(t));
    t.id = "2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c";
    t.user_id = "hboEiWaqC0WOJj9UlBXxSmKPRsl6fLAE";
    t.title = "Buy milk";
    t.completed = 0;
    t.priority = 0;
    t.created_at = "2026-11-22T10:31:59.979377Z";
    t.updated_at = "2026-11-22T10:31:59.979377Z";
    t.version = 1;
    return t;
}

static void test_task_nulls(void **state)
{
    todo_task_t t = sample_task();
    todo_buf_t b;
    json_t *root;

    todo_buf_init(&b, *state, 0);
    todo_json_task(&b, &t);
    assert_string_equal(
        todo_buf_cstr(&b),
        "{\"id\":\"2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c\","
        "\"user_id\":\"hboEiWaqC0WOJj9UlBXxSmKPRsl6fLAE\","
        "\"title\":\"Buy milk\",\"description\":null,\"completed\":false,"
        "\"completed_at\":null,\"priority\":0,\"due_at\":null,"
        "\"created_at\":\"2026-11-22T10:31:59.979377Z\","
        "\"updated_at\":\"2026-11-22T10:31:59.979377Z\",\"version\":1}");
    root = assert_json(&b);
    assert_int_equal(json_object_size(root), 11);
    json_decref(root);
}

static void test_task_all_set(void **state)
{
    todo_task_t t = sample_task();
    todo_buf_t b;
    json_t *root;

    t.description = "two\nlines";
    t.completed = 1;
    t.completed_at = "2026-11-23T08:00:00.000001Z";
    t.priority = 3;
    t.due_at = "2026-12-01T00:00:00Z";
    t.updated_at = "2026-11-23T08:00:00.000001Z";
    t.version = APR_INT64_MAX;
    todo_buf_init(&b, *state, 0);
    todo_json_task(&b, &t);
    assert_string_equal(
        todo_buf_cstr(&b),
        "{\"id\":\"2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c\","
        "\"user_id\":\"hboEiWaqC0WOJj9UlBXxSmKPRsl6fLAE\","
        "\"title\":\"Buy milk\",\"description\":\"two\\nlines\","
        "\"completed\":true,\"completed_at\":\"2026-11-23T08:00:00.000001Z\","
        "\"priority\":3,\"due_at\":\"2026-12-01T00:00:00Z\","
        "\"created_at\":\"2026-11-22T10:31:59.979377Z\","
        "\"updated_at\":\"2026-11-23T08:00:00.000001Z\","
        "\"version\":9223372036854775807}");
    root = assert_json(&b);
    assert_true(json_integer_value(json_object_get(root, "version"))
                == APR_INT64_MAX);
    json_decref(root);
}

static void test_task_field_order(void **state)
{
    static const char *const order[] = {
        "id",         "user_id",      "title",    "description",
        "completed",  "completed_at", "priority", "due_at",
        "created_at", "updated_at",   "version",
    };
    todo_task_t t = sample_task();
    todo_buf_t b;
    json_t *root, *v;
    const char *key;
    apr_size_t i = 0;

    todo_buf_init(&b, *state, 0);
    todo_json_task(&b, &t);
    root = assert_json(&b);
    /* jansson keeps the members in the order they were read. */
    json_object_foreach(root, key, v)
    {
        assert_true(i < sizeof(order) / sizeof(order[0]));
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_int_equal(i, 11);
    json_decref(root);
}

static void test_task_escaping(void **state)
{
    todo_task_t t = sample_task();
    todo_buf_t b;
    json_t *root;
    const char *title = "say \"hi\" \\ back\x01\x1f\b\f\r\t/ caf\xC3\xA9 "
                        "\xE2\x82\xAC \xF0\x9F\x98\x80 \x7F";
    const char *desc = "</script>\xE2\x80\xA8";

    t.title = title;
    t.description = desc;
    todo_buf_init(&b, *state, 0);
    todo_json_task(&b, &t);
    /* Control characters escaped; UTF-8 passed through as is. */
    assert_non_null(strstr(
        todo_buf_cstr(&b),
        "\"title\":\"say \\\"hi\\\" \\\\ back\\u0001\\u001f\\b\\f\\r\\t/ "
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \x7F\","));
    root = assert_json(&b);
    assert_string_equal(json_string_value(json_object_get(root, "title")),
                        title);
    assert_string_equal(
        json_string_value(json_object_get(root, "description")), desc);
    json_decref(root);
}

static void test_task_in_envelope(void **state)
{
    todo_task_t t = sample_task();
    todo_buf_t b;
    json_t *root;

    todo_buf_init(&b, *state, 0);
    todo_json_data_begin(&b);
    todo_buf_puts(&b, "{\"tasks\":[");
    todo_json_task(&b, &t);
    todo_buf_putc(&b, ',');
    todo_json_task(&b, &t);
    todo_buf_puts(&b, "],\"total\":2,\"limit\":50,\"offset\":0}");
    todo_json_data_end(&b, &meta);
    root = assert_json(&b);
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(root, "data"), "tasks")),
                     2);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_data_envelope),
        todo_test_with_pool(test_data_envelope_escapes_meta),
        todo_test_with_pool(test_error_with_details),
        todo_test_with_pool(test_error_without_details),
        todo_test_with_pool(test_error_escapes_message),
        cmocka_unit_test(test_status_codes),
        todo_test_with_pool(test_task_nulls),
        todo_test_with_pool(test_task_all_set),
        todo_test_with_pool(test_task_field_order),
        todo_test_with_pool(test_task_escaping),
        todo_test_with_pool(test_task_in_envelope),
    };
    return TODO_TEST_MAIN("todo_json", tests, NULL, NULL);
}
