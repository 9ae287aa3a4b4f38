/* Unit tests of todo_text: UUIDs, UTF-8, blanks and the JSON media type. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "todo_test.h"
#include "todo_text.h"

/* ------------------------------------------------------------------ uuid */

static void test_uuid_valid(void **state)
{
    (void)state;
    assert_true(todo_text_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c"));
    assert_true(todo_text_is_uuid("2F6C1A9E-7A57-4A53-9A4E-0D2B2F3F5B0C"));
    assert_true(todo_text_is_uuid("2F6c1a9E-7a57-4A53-9a4e-0D2b2f3f5b0C"));
    assert_true(todo_text_is_uuid("00000000-0000-0000-0000-000000000000"));
}

static void test_uuid_invalid(void **state)
{
    (void)state;
    assert_false(todo_text_is_uuid(NULL));
    assert_false(todo_text_is_uuid(""));
    /* 35 and 37 characters */
    assert_false(todo_text_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0"));
    assert_false(todo_text_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c0"));
    /* a non-hex digit, in each group */
    assert_false(todo_text_is_uuid("gf6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c"));
    assert_false(todo_text_is_uuid("2f6c1a9e-7a5g-4a53-9a4e-0d2b2f3f5b0c"));
    assert_false(todo_text_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0z"));
    /* hyphens missing or moved */
    assert_false(todo_text_is_uuid("2f6c1a9e7a574a539a4e0d2b2f3f5b0c"));
    assert_false(todo_text_is_uuid("2f6c1a9e07a57-4a53-9a4e-0d2b2f3f5b0c"));
    assert_false(todo_text_is_uuid("2f6c1a9-e7a57-4a53-9a4e-0d2b2f3f5b0c"));
    assert_false(todo_text_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f-5b0c"));
    assert_false(todo_text_is_uuid("{2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0}"));
    assert_false(todo_text_is_uuid(" 2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c"));
}

/* ----------------------------------------------------------------- UTF-8 */

#define LEN(lit) todo_text_utf8_length((lit), sizeof(lit) - 1)

static void test_utf8_length_valid(void **state)
{
    (void)state;
    assert_int_equal(LEN(""), 0);
    assert_int_equal(LEN("abc"), 3);
    assert_int_equal(LEN("\xC3\xA9"), 1); /* e acute */
    assert_int_equal(LEN("caf\xC3\xA9"), 4);
    assert_int_equal(LEN("\xE2\x82\xAC"), 1);     /* euro sign */
    assert_int_equal(LEN("\xF0\x9F\x98\x80"), 1); /* emoji */
    assert_int_equal(LEN("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"), 5);
    /* the edges of each sequence length */
    assert_int_equal(LEN("\x7F"), 1);
    assert_int_equal(LEN("\xC2\x80"), 1);         /* U+0080 */
    assert_int_equal(LEN("\xDF\xBF"), 1);         /* U+07FF */
    assert_int_equal(LEN("\xE0\xA0\x80"), 1);     /* U+0800 */
    assert_int_equal(LEN("\xED\x9F\xBF"), 1);     /* U+D7FF */
    assert_int_equal(LEN("\xEE\x80\x80"), 1);     /* U+E000 */
    assert_int_equal(LEN("\xEF\xBF\xBF"), 1);     /* U+FFFF */
    assert_int_equal(LEN("\xF0\x90\x80\x80"), 1); /* U+10000 */
    assert_int_equal(LEN("\xF4\x8F\xBF\xBF"), 1); /* U+10FFFF */
    /* n counts, not the NUL */
    assert_int_equal(todo_text_utf8_length("a\0b", 3), 3);
    assert_int_equal(todo_text_utf8_length("abcdef", 2), 2);
}

static void test_utf8_length_invalid(void **state)
{
    (void)state;
    assert_int_equal(LEN("\xC0\x80"), -1); /* overlong NUL */
    assert_int_equal(LEN("\xC0\xAF"), -1); /* overlong '/' */
    assert_int_equal(LEN("\xC1\xBF"), -1);
    assert_int_equal(LEN("\xE0\x80\x80"), -1); /* overlong 3 */
    assert_int_equal(LEN("\xE0\x9F\xBF"), -1);
    assert_int_equal(LEN("\xF0\x80\x80\x80"), -1); /* overlong 4 */
    assert_int_equal(LEN("\xF0\x8F\xBF\xBF"), -1);
    assert_int_equal(LEN("\xED\xA0\x80"), -1);     /* U+D800 */
    assert_int_equal(LEN("\xED\xBF\xBF"), -1);     /* U+DFFF */
    assert_int_equal(LEN("\xF4\x90\x80\x80"), -1); /* U+110000 */
    assert_int_equal(LEN("\xF5\x80\x80\x80"), -1);
    assert_int_equal(LEN("\xF8\x88\x80\x80\x80"), -1);
    assert_int_equal(LEN("\xFE"), -1);
    assert_int_equal(LEN("\xFF"), -1);
    assert_int_equal(LEN("\x80"), -1); /* stray */
    assert_int_equal(LEN("a\xBF"), -1);
    assert_int_equal(LEN("\xC3\x28"), -1); /* bad continuation */
    assert_int_equal(LEN("\xE2\x28\xA1"), -1);
    assert_int_equal(LEN("\xF0\x9F\x28\x80"), -1);
    /* truncated sequences, also when the bytes follow beyond n */
    assert_int_equal(LEN("\xC3"), -1);
    assert_int_equal(LEN("\xE2\x82"), -1);
    assert_int_equal(LEN("\xF0\x9F\x98"), -1);
    assert_int_equal(LEN("abc\xF0"), -1);
    assert_int_equal(todo_text_utf8_length("\xC3\xA9", 1), -1);
    assert_int_equal(todo_text_utf8_length("\xF0\x9F\x98\x80", 3), -1);
}

/* ---------------------------------------------------------------- blanks */

static void test_is_blank(void **state)
{
    static const char *const blank[] = {
        "",
        " ",
        "   ",
        "\t",
        "\n",
        "\v",
        "\f",
        "\r",
        " \t\n\v\f\r ",
        "\xC2\x85",     /* U+0085 NEL */
        "\xC2\xA0",     /* U+00A0 NBSP */
        "\xE1\x9A\x80", /* U+1680 */
        "\xE2\x80\x80", /* U+2000 */
        "\xE2\x80\x85", /* U+2005 */
        "\xE2\x80\x8A", /* U+200A */
        "\xE2\x80\xA8", /* U+2028 */
        "\xE2\x80\xA9", /* U+2029 */
        "\xE2\x80\xAF", /* U+202F */
        "\xE2\x81\x9F", /* U+205F */
        "\xE3\x80\x80", /* U+3000 ideographic space */
        "\xE3\x80\x80\xE3\x80\x80 \xC2\xA0\t",
    };
    static const char *const not_blank[] = {
        "a",
        " a",
        "a ",
        " . ",
        "\xC3\xA9",
        "\xE2\x80\x8B", /* U+200B zero width space: not White_Space */
        "\xE1\xA0\x8E", /* U+180E: not White_Space since Unicode 6.3 */
        "\xEF\xBB\xBF", /* U+FEFF BOM */
        "\x1F",         /* a control that is not White_Space */
        "\xE3\x80\x80x",
        " \xC3", /* invalid UTF-8 is not "nothing" */
    };
    apr_size_t i;

    (void)state;
    assert_true(todo_text_is_blank(NULL));
    for (i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        if (!todo_text_is_blank(blank[i])) {
            fail_msg("blank[%d] not blank", (int)i);
        }
    }
    for (i = 0; i < sizeof(not_blank) / sizeof(not_blank[0]); i++) {
        if (todo_text_is_blank(not_blank[i])) {
            fail_msg("not_blank[%d] taken as blank", (int)i);
        }
    }
}

/* ------------------------------------------------------------ media type */

static void test_is_json_media_type(void **state)
{
    (void)state;
    assert_true(todo_text_is_json_type("application/json"));
    assert_true(todo_text_is_json_type("Application/JSON; charset=utf-8"));
    assert_true(todo_text_is_json_type("APPLICATION/JSON"));
    assert_true(todo_text_is_json_type("application/json;charset=UTF-8"));
    assert_true(todo_text_is_json_type("  application/json  "));
    assert_true(todo_text_is_json_type("application/json ; charset=utf-8"));
    assert_true(todo_text_is_json_type("\tapplication/json\t"));
    assert_false(todo_text_is_json_type(NULL));
    assert_false(todo_text_is_json_type(""));
    assert_false(todo_text_is_json_type("   "));
    assert_false(todo_text_is_json_type("application/jsonx"));
    assert_false(todo_text_is_json_type("application/json-patch+json"));
    assert_false(todo_text_is_json_type("application/merge-patch+json"));
    assert_false(todo_text_is_json_type("text/json"));
    assert_false(todo_text_is_json_type("application/jso"));
    assert_false(todo_text_is_json_type("application/json x"));
    assert_false(todo_text_is_json_type("text/plain"));
    assert_false(todo_text_is_json_type("application/x-www-form-urlencoded"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test(test_uuid_invalid),
        cmocka_unit_test(test_utf8_length_valid),
        cmocka_unit_test(test_utf8_length_invalid),
        cmocka_unit_test(test_is_blank),
        cmocka_unit_test(test_is_json_media_type),
    };

    return TODO_TEST_MAIN("todo_text", tests, NULL, NULL);
}
