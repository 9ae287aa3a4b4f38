/* Unit tests of todo_buf: growth, printf, and JSON string escaping checked
 * against a plain byte-by-byte reference on many inputs (the escaper skips
 * 8 bytes at a time, so every position around a word boundary matters). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "todo_test.h"
#include "todo_buf.h"

/* The reference: RFC 8259 escaping, one byte at a time. */
static char *reference(const unsigned char *s, size_t n)
{
    char *out = malloc(n * 6 + 3), *o = out;
    size_t i;

    *o++ = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = s[i];

        switch (c) {
        case '"':
            o += sprintf(o, "\\\"");
            break;
        case '\\':
            o += sprintf(o, "\\\\");
            break;
        case '\n':
            o += sprintf(o, "\\n");
            break;
        case '\r':
            o += sprintf(o, "\\r");
            break;
        case '\t':
            o += sprintf(o, "\\t");
            break;
        case '\b':
            o += sprintf(o, "\\b");
            break;
        case '\f':
            o += sprintf(o, "\\f");
            break;
        default:
            if (c < 0x20) {
                o += sprintf(o, "\\u%04x", c);
            }
            else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static void check(const unsigned char *s, size_t n)
{
    todo_buf_t b;
    char *want = reference(s, n);

    todo_buf_init(&b, todo_test_pool, 1);
    todo_buf_puts(&b, "x");
    todo_buf_json_string_n(&b, (const char *)s, n);
    assert_int_equal(b.len, strlen(want) + 1);
    assert_memory_equal(b.data + 1, want, strlen(want));
    free(want);
}

static void test_escape_positions(void **state)
{
    static const unsigned char special[] = {
        '"',  '\\', '\n', '\r', '\t', '\b', '\f', 0x01, 0x1f, 0x7f, 0x80,
        0xc3, 0xe9, 0xff, ' ',  '/',  0x20, 0x21, 0x5b, 0x5d, 0x00
    };
    unsigned char s[40];
    size_t len, pos, k;

    (void)state;
    /* Every special byte at every position of strings of 0-39 bytes. */
    for (len = 0; len < sizeof(s); len++) {
        for (pos = 0; pos < len; pos++) {
            for (k = 0; k < sizeof(special); k++) {
                memset(s, 'a', len);
                s[pos] = special[k];
                check(s, len);
            }
        }
    }
}

static void test_escape_random(void **state)
{
    unsigned char s[300];
    int round;
    size_t i, n;

    (void)state;
    srand(12345);
    for (round = 0; round < 3000; round++) {
        n = (size_t)rand() % sizeof(s);
        for (i = 0; i < n; i++) {
            /* Mostly printable, some specials, some high bytes. */
            int r = rand() % 10;
            s[i] = r < 7   ? (unsigned char)(0x20 + rand() % 95)
                   : r < 9 ? (unsigned char)(rand() % 0x20)
                           : (unsigned char)(0x80 + rand() % 0x80);
        }
        check(s, n);
    }
}

static void test_escape_utf8_untouched(void **state)
{
    todo_buf_t b;
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe3\x80\x80";

    (void)state;
    todo_buf_init(&b, todo_test_pool, 8);
    todo_buf_json_string(&b, s);
    assert_string_equal(
        todo_buf_cstr(&b),
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe3\x80\x80\"");
}

static void test_growth_and_printf(void **state)
{
    todo_buf_t b;
    int i;

    (void)state;
    todo_buf_init(&b, todo_test_pool, 1);
    for (i = 0; i < 1000; i++) {
        todo_buf_printf(&b, "%d,", i);
    }
    todo_buf_printf(&b, "%s", apr_psprintf(todo_test_pool, "%0300d", 7));
    assert_int_equal(b.len, strlen(todo_buf_cstr(&b)));
    assert_non_null(strstr(todo_buf_cstr(&b), "998,999,000"));
    assert_int_equal(b.data[b.len], '\0');
    todo_buf_putc(&b, '!');
    assert_int_equal(todo_buf_cstr(&b)[b.len - 1], '!');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_positions),
        cmocka_unit_test(test_escape_random),
        cmocka_unit_test(test_escape_utf8_untouched),
        cmocka_unit_test(test_growth_and_printf),
    };
    return TODO_TEST_MAIN("buf", tests, NULL, NULL);
}
