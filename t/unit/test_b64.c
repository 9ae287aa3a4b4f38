/* Unit tests of todo_b64: RFC 4648's vectors in the url alphabet without
 * padding, and the strict decoder (one spelling per byte string). */
#include <string.h>

#include <apr_strings.h>
#include "todo_test.h"
#include "todo_b64.h"

static void test_vectors(void **state)
{
    /* RFC 4648 section 10, padding removed. */
    static const char *const vec[][2] = {
        { "", "" },
        { "f", "Zg" },
        { "fo", "Zm8" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg" },
        { "fooba", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy" },
    };
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        todo_bytes_t b;

        assert_string_equal(todo_b64_encode(p, vec[i][0], strlen(vec[i][0])),
                            vec[i][1]);
        assert_int_equal(todo_b64_decode(p, vec[i][1], strlen(vec[i][1]), &b),
                         0);
        assert_int_equal(b.len, strlen(vec[i][0]));
        assert_memory_equal(b.data, vec[i][0], b.len);
    }
}

static void test_url_alphabet(void **state)
{
    static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
    apr_pool_t *p = *state;
    todo_bytes_t b;

    /* "+/" in standard base64; "-_" here. */
    assert_string_equal(todo_b64_encode(p, bytes, 3), "-_-_");
    assert_int_equal(todo_b64_decode(p, "-_-_", 4, &b), 0);
    assert_memory_equal(b.data, bytes, 3);
    assert_int_equal(todo_b64_decode(p, "+/+/", 4, &b), -1);
}

static void test_strict(void **state)
{
    apr_pool_t *p = *state;
    todo_bytes_t b;

    assert_int_equal(todo_b64_decode(p, "Zg==", 4, &b), -1); /* padding */
    assert_int_equal(todo_b64_decode(p, "Z", 1, &b), -1);    /* 6 bits */
    assert_int_equal(todo_b64_decode(p, "Zh", 2, &b), -1);   /* not zero */
    assert_int_equal(todo_b64_decode(p, "Zm8", 3, &b), 0);   /* "fo" */
    assert_int_equal(todo_b64_decode(p, "Zm9", 3, &b), -1);  /* not zero */
    assert_int_equal(todo_b64_decode(p, "Zm9 ", 4, &b), -1); /* blank */
}

static void test_round_trip(void **state)
{
    apr_pool_t *p = *state;
    unsigned char bytes[256];
    size_t n;

    for (n = 0; n < sizeof(bytes); n++) {
        bytes[n] = (unsigned char)(n * 37 + 11);
    }
    for (n = 0; n <= sizeof(bytes); n++) {
        const char *e = todo_b64_encode(p, bytes, n);
        todo_bytes_t b;

        assert_int_equal(strlen(e), (n * 4 + 2) / 3);
        assert_int_equal(todo_b64_decode(p, e, strlen(e), &b), 0);
        assert_int_equal(b.len, n);
        assert_memory_equal(b.data, bytes, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_vectors),
        todo_test_with_pool(test_url_alphabet),
        todo_test_with_pool(test_strict),
        todo_test_with_pool(test_round_trip),
    };

    return TODO_TEST_MAIN("todo_b64", tests, NULL, NULL);
}
