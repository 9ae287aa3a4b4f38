/* Unit tests of todo_etag: ETags, If-None-Match and If-Match. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "todo_test.h"
#include "todo_etag.h"

static void test_etag_write(void **state)
{
    char out[24];

    (void)state;
    todo_etag_write(out, 1);
    assert_string_equal(out, "\"1\"");
    todo_etag_write(out, 7);
    assert_string_equal(out, "\"7\"");
    todo_etag_write(out, 1234567890);
    assert_string_equal(out, "\"1234567890\"");
    todo_etag_write(out, APR_INT64_MAX);
    assert_string_equal(out, "\"9223372036854775807\"");
}

static void test_if_none_match(void **state)
{
    (void)state;
    assert_false(todo_etag_none_match(NULL, 3));
    assert_false(todo_etag_none_match("", 3));
    assert_true(todo_etag_none_match("\"3\"", 3));
    assert_false(todo_etag_none_match("\"3\"", 4));
    assert_false(todo_etag_none_match("\"3\"", 33));
    assert_false(todo_etag_none_match("\"33\"", 3));
    /* weak comparison: W/ does not matter */
    assert_true(todo_etag_none_match("W/\"3\"", 3));
    assert_true(todo_etag_none_match("*", 3));
    assert_true(todo_etag_none_match(" * ", 1));
    assert_true(todo_etag_none_match("\"1\", \"3\"", 3));
    assert_true(todo_etag_none_match("\"1\",W/\"3\"", 3));
    assert_true(todo_etag_none_match("\"1\" ,\t\"2\" , \"3\"", 3));
    assert_true(todo_etag_none_match("  \"3\"  ", 3));
    assert_true(todo_etag_none_match(",,\"3\",", 3));
    assert_true(todo_etag_none_match("\"a,b\", \"3\"", 3));
    assert_false(todo_etag_none_match("\"1\", \"2\"", 3));
    assert_false(todo_etag_none_match("\"03\"", 3));
    assert_false(todo_etag_none_match("3", 3));       /* unquoted */
    assert_false(todo_etag_none_match("w/\"3\"", 3)); /* W is upper-case */
    assert_false(todo_etag_none_match("\"3", 3));     /* unterminated */
    assert_false(todo_etag_none_match("\"3\"x", 3));
    assert_true(
        todo_etag_none_match("\"9223372036854775807\"", APR_INT64_MAX));
}

static void assert_if_match(apr_pool_t *p, const char *header,
                            const char *want)
{
    const char *got = todo_etag_match_versions(p, header);

    header = header ? header : "(null)";
    if (want == NULL) {
        if (got != NULL) {
            fail_msg("If-Match [%s]: want NULL, got %s", header, got);
        }
        return;
    }
    if (got == NULL) {
        fail_msg("If-Match [%s]: want %s, got NULL", header, want);
    }
    if (strcmp(got, want) != 0) {
        fail_msg("If-Match [%s]: want %s, got %s", header, want, got);
    }
}

static void test_if_match_versions(void **state)
{
    apr_pool_t *p = *state;

    assert_if_match(p, NULL, NULL);
    assert_if_match(p, "*", NULL);
    assert_if_match(p, " * ", NULL);
    assert_if_match(p, "\"1\", *", NULL); /* "*" even in a list */
    assert_if_match(p, "*, W/\"1\"", NULL);
    assert_if_match(p, "\"3\"", "{3}");
    assert_if_match(p, "\"3\", \"4\"", "{3,4}");
    assert_if_match(p, "\"3\",\"4\" ,\t\"12\"", "{3,4,12}");
    assert_if_match(p, ",\"5\",,", "{5}");
    /* strong comparison: weak tags match nothing */
    assert_if_match(p, "W/\"3\"", "{}");
    assert_if_match(p, "\"3\", W/\"4\"", "{3}");
    assert_if_match(p, "W/\"4\", \"3\"", "{3}");
    /* tags we never issue */
    assert_if_match(p, "\"abc\"", "{}");
    assert_if_match(p, "\"0\"", "{}");
    assert_if_match(p, "\"03\"", "{}");
    assert_if_match(p, "\"-1\"", "{}");
    assert_if_match(p, "\"\"", "{}");
    assert_if_match(p, "\"1 \"", "{}");
    assert_if_match(p, "\"9223372036854775807\"", "{9223372036854775807}");
    assert_if_match(p, "\"9223372036854775808\"", "{}");
    assert_if_match(p, "\"99999999999999999999\"", "{}");
    assert_if_match(p, "\"abc\", \"2\"", "{2}");
    /* malformed: fail closed */
    assert_if_match(p, "", "{}");
    assert_if_match(p, "3", "{}");
    assert_if_match(p, "\"3", "{}");
    assert_if_match(p, "\"3\" junk", "{}");
    assert_if_match(p, "\"3\" \"4\"", "{}");
    assert_if_match(p, "w/\"3\"", "{}");
    assert_if_match(p, "**", "{}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_write),
        cmocka_unit_test(test_if_none_match),
        todo_test_with_pool(test_if_match_versions),
    };

    return TODO_TEST_MAIN("todo_etag", tests, NULL, NULL);
}
