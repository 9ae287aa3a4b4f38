/* Unit tests of todo_idem: the Idempotency-Key header (an RFC 8941 String,
 * or a bare key; parameters ignored; 1-255 visible ASCII characters) and
 * the fingerprint of a write. */
#include <string.h>
#include <apr_strings.h>
#include "todo_test.h"
#include "todo_idem.h"

static void assert_key(apr_pool_t *p, const char *value, const char *want)
{
    const char *key = NULL, *why = NULL;

    if (todo_idem_parse_key(p, value, &key, &why)) {
        fail_msg("[%s] refused: %s", value, why);
    }
    assert_null(why);
    assert_string_equal(key, want);
}

static void assert_refused(apr_pool_t *p, const char *value)
{
    const char *key = NULL, *why = NULL;

    if (!todo_idem_parse_key(p, value, &key, &why)) {
        fail_msg("[%s] accepted as [%s]", value ? value : "(null)", key);
    }
    assert_non_null(why);
}

static void test_string(void **state)
{
    apr_pool_t *p = *state;

    /* The draft's example, and RFC 8941's escapes. */
    assert_key(p, "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"",
               "8e03978e-40d5-43e8-bc93-6894a57f9324");
    assert_key(p, "\"a\\\"b\\\\c\"", "a\"b\\c");
    assert_key(p, "  \"k\"  ", "k");
    assert_key(p, "\t\"k\"\t", "k");
    assert_key(p, "\"k,;=()\"", "k,;=()");
    /* Parameters are allowed and ignored. */
    assert_key(p, "\"k\";a=1", "k");
    assert_key(p, "\"k\"; a=1;b;c=?0;d=\"x;y\";e=tok/en;f=-1.5;g=:aGk=:", "k");
    assert_key(p, "\"k\";*x", "k");
}

static void test_bare(void **state)
{
    apr_pool_t *p = *state;

    assert_key(p, "8e03978e-40d5-43e8-bc93-6894a57f9324",
               "8e03978e-40d5-43e8-bc93-6894a57f9324");
    assert_key(p, "abc", "abc");
    assert_key(p, "a=b/c+d", "a=b/c+d");
    assert_key(p, "k;a=1", "k");
    assert_key(p, " k ", "k");
}

static void test_refused(void **state)
{
    apr_pool_t *p = *state;
    char *max = apr_palloc(p, 260), *quoted;

    assert_refused(p, NULL);
    assert_refused(p, "");
    assert_refused(p, "   ");
    assert_refused(p, "\"\"");         /* empty */
    assert_refused(p, "\"a b\"");      /* a blank is not visible */
    assert_refused(p, "a b");          /* nor in a bare key */
    assert_refused(p, "\"abc");        /* unterminated */
    assert_refused(p, "\"a\\bc\"");    /* only \" and \\ escape */
    assert_refused(p, "\"a\"b");       /* trailing garbage */
    assert_refused(p, "a, b");         /* two keys (two headers) */
    assert_refused(p, "\"a\", \"b\""); /* a list */
    assert_refused(p, "a\"b");
    assert_refused(p, "a\\b");
    assert_refused(p, "\"caf\xc3\xa9\""); /* not ASCII */
    assert_refused(p, "caf\xc3\xa9");
    assert_refused(p, "\"a\x01\"");
    assert_refused(p, "a\x7f");
    assert_refused(p, "\"k\";A=1"); /* parameter keys are lower case */
    assert_refused(p, "\"k\";a=");  /* a parameter without its value */
    assert_refused(p, "\"k\";a=?2");
    assert_refused(p, "\"k\";a=:x");
    assert_refused(p, "\"k\";a=\"x");
    assert_refused(p, "\"k\";a=1.");
    assert_refused(p, ";a=1"); /* parameters of nothing */

    memset(max, 'x', 255);
    max[255] = '\0';
    assert_key(p, max, max);
    quoted = apr_pstrcat(p, "\"", max, "\"", NULL);
    assert_key(p, quoted, max);
    max[255] = 'x';
    max[256] = '\0';
    assert_refused(p, max);
    assert_refused(p, apr_pstrcat(p, "\"", max, "\"", NULL));
}

static void test_fingerprint(void **state)
{
    apr_pool_t *p = *state;
    const char *id = "2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c";
    const char *fp =
        todo_idem_fingerprint(p, "PATCH", "patch", id, "{\"a\":1}", 7);
    const char *c;

    assert_non_null(fp);
    assert_int_equal(strlen(fp), TODO_IDEM_FP_LEN);
    for (c = fp; *c; c++) {
        assert_true((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'));
    }
    /* Stable, and only the body's first len bytes count. */
    assert_string_equal(
        fp, todo_idem_fingerprint(p, "PATCH", "patch", id, "{\"a\":1}xx", 7));
    /* Each part matters. */
    assert_string_not_equal(
        fp, todo_idem_fingerprint(p, "PUT", "patch", id, "{\"a\":1}", 7));
    assert_string_not_equal(
        fp, todo_idem_fingerprint(p, "PATCH", "complete", id, "{\"a\":1}", 7));
    assert_string_not_equal(
        fp, todo_idem_fingerprint(p, "PATCH", "patch",
                                  "2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0d",
                                  "{\"a\":1}", 7));
    assert_string_not_equal(
        fp, todo_idem_fingerprint(p, "PATCH", "patch", id, "{\"a\": 1}", 8));
    /* Length prefixes: moving bytes between parts changes it. */
    assert_string_not_equal(todo_idem_fingerprint(p, "AB", "C", "", NULL, 0),
                            todo_idem_fingerprint(p, "A", "BC", "", NULL, 0));
    assert_string_not_equal(todo_idem_fingerprint(p, "A", "B", "x", NULL, 0),
                            todo_idem_fingerprint(p, "A", "B", "", "x", 1));
    /* No body and an empty one are the same request (an empty PATCH
     * .../complete toggles either way); a create has no task id. */
    assert_string_equal(
        todo_idem_fingerprint(p, "PATCH", "complete", id, NULL, 0),
        todo_idem_fingerprint(p, "PATCH", "complete", id, "", 0));
    assert_string_equal(
        todo_idem_fingerprint(p, "POST", "create", NULL, "{}", 2),
        todo_idem_fingerprint(p, "POST", "create", "", "{}", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_string),
        todo_test_with_pool(test_bare),
        todo_test_with_pool(test_refused),
        todo_test_with_pool(test_fingerprint),
    };

    return TODO_TEST_MAIN("todo_idem", tests, NULL, NULL);
}
