/* Unit tests of todo_util: UUIDs, UTF-8, blanks, RFC 3339, time format,
 * PostgreSQL's timestamps, ETags and the JSON media type. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "todo_util.h"

static int setup(void **state)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

/* ------------------------------------------------------------------ uuid */

static void test_uuid_valid(void **state)
{
    (void)state;
    assert_true(todo_util_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c"));
    assert_true(todo_util_is_uuid("2F6C1A9E-7A57-4A53-9A4E-0D2B2F3F5B0C"));
    assert_true(todo_util_is_uuid("2F6c1a9E-7a57-4A53-9a4e-0D2b2f3f5b0C"));
    assert_true(todo_util_is_uuid("00000000-0000-0000-0000-000000000000"));
}

static void test_uuid_invalid(void **state)
{
    (void)state;
    assert_false(todo_util_is_uuid(NULL));
    assert_false(todo_util_is_uuid(""));
    /* 35 and 37 characters */
    assert_false(todo_util_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0"));
    assert_false(todo_util_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c0"));
    /* a non-hex digit, in each group */
    assert_false(todo_util_is_uuid("gf6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c"));
    assert_false(todo_util_is_uuid("2f6c1a9e-7a5g-4a53-9a4e-0d2b2f3f5b0c"));
    assert_false(todo_util_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0z"));
    /* hyphens missing or moved */
    assert_false(todo_util_is_uuid("2f6c1a9e7a574a539a4e0d2b2f3f5b0c"));
    assert_false(todo_util_is_uuid("2f6c1a9e07a57-4a53-9a4e-0d2b2f3f5b0c"));
    assert_false(todo_util_is_uuid("2f6c1a9-e7a57-4a53-9a4e-0d2b2f3f5b0c"));
    assert_false(todo_util_is_uuid("2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f-5b0c"));
    assert_false(todo_util_is_uuid("{2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0}"));
    assert_false(todo_util_is_uuid(" 2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c"));
}

/* ----------------------------------------------------------------- UTF-8 */

#define LEN(lit) todo_util_utf8_length((lit), sizeof(lit) - 1)

static void test_utf8_length_valid(void **state)
{
    (void)state;
    assert_int_equal(LEN(""), 0);
    assert_int_equal(LEN("abc"), 3);
    assert_int_equal(LEN("\xC3\xA9"), 1);                  /* e acute */
    assert_int_equal(LEN("caf\xC3\xA9"), 4);
    assert_int_equal(LEN("\xE2\x82\xAC"), 1);              /* euro sign */
    assert_int_equal(LEN("\xF0\x9F\x98\x80"), 1);          /* emoji */
    assert_int_equal(LEN("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"), 5);
    /* the edges of each sequence length */
    assert_int_equal(LEN("\x7F"), 1);
    assert_int_equal(LEN("\xC2\x80"), 1);                  /* U+0080 */
    assert_int_equal(LEN("\xDF\xBF"), 1);                  /* U+07FF */
    assert_int_equal(LEN("\xE0\xA0\x80"), 1);              /* U+0800 */
    assert_int_equal(LEN("\xED\x9F\xBF"), 1);              /* U+D7FF */
    assert_int_equal(LEN("\xEE\x80\x80"), 1);              /* U+E000 */
    assert_int_equal(LEN("\xEF\xBF\xBF"), 1);              /* U+FFFF */
    assert_int_equal(LEN("\xF0\x90\x80\x80"), 1);          /* U+10000 */
    assert_int_equal(LEN("\xF4\x8F\xBF\xBF"), 1);          /* U+10FFFF */
    /* n counts, not the NUL */
    assert_int_equal(todo_util_utf8_length("a\0b", 3), 3);
    assert_int_equal(todo_util_utf8_length("abcdef", 2), 2);
}

static void test_utf8_length_invalid(void **state)
{
    (void)state;
    assert_int_equal(LEN("\xC0\x80"), -1);                 /* overlong NUL */
    assert_int_equal(LEN("\xC0\xAF"), -1);                 /* overlong '/' */
    assert_int_equal(LEN("\xC1\xBF"), -1);
    assert_int_equal(LEN("\xE0\x80\x80"), -1);             /* overlong 3 */
    assert_int_equal(LEN("\xE0\x9F\xBF"), -1);
    assert_int_equal(LEN("\xF0\x80\x80\x80"), -1);         /* overlong 4 */
    assert_int_equal(LEN("\xF0\x8F\xBF\xBF"), -1);
    assert_int_equal(LEN("\xED\xA0\x80"), -1);             /* U+D800 */
    assert_int_equal(LEN("\xED\xBF\xBF"), -1);             /* U+DFFF */
    assert_int_equal(LEN("\xF4\x90\x80\x80"), -1);         /* U+110000 */
    assert_int_equal(LEN("\xF5\x80\x80\x80"), -1);
    assert_int_equal(LEN("\xF8\x88\x80\x80\x80"), -1);
    assert_int_equal(LEN("\xFE"), -1);
    assert_int_equal(LEN("\xFF"), -1);
    assert_int_equal(LEN("\x80"), -1);                     /* stray */
    assert_int_equal(LEN("a\xBF"), -1);
    assert_int_equal(LEN("\xC3\x28"), -1);                 /* bad continuation */
    assert_int_equal(LEN("\xE2\x28\xA1"), -1);
    assert_int_equal(LEN("\xF0\x9F\x28\x80"), -1);
    /* truncated sequences, also when the bytes follow beyond n */
    assert_int_equal(LEN("\xC3"), -1);
    assert_int_equal(LEN("\xE2\x82"), -1);
    assert_int_equal(LEN("\xF0\x9F\x98"), -1);
    assert_int_equal(LEN("abc\xF0"), -1);
    assert_int_equal(todo_util_utf8_length("\xC3\xA9", 1), -1);
    assert_int_equal(todo_util_utf8_length("\xF0\x9F\x98\x80", 3), -1);
}

/* ---------------------------------------------------------------- blanks */

static void test_is_blank(void **state)
{
    static const char *const blank[] = {
        "", " ", "   ", "\t", "\n", "\v", "\f", "\r", " \t\n\v\f\r ",
        "\xC2\x85",                 /* U+0085 NEL */
        "\xC2\xA0",                 /* U+00A0 NBSP */
        "\xE1\x9A\x80",             /* U+1680 */
        "\xE2\x80\x80",             /* U+2000 */
        "\xE2\x80\x85",             /* U+2005 */
        "\xE2\x80\x8A",             /* U+200A */
        "\xE2\x80\xA8",             /* U+2028 */
        "\xE2\x80\xA9",             /* U+2029 */
        "\xE2\x80\xAF",             /* U+202F */
        "\xE2\x81\x9F",             /* U+205F */
        "\xE3\x80\x80",             /* U+3000 ideographic space */
        "\xE3\x80\x80\xE3\x80\x80 \xC2\xA0\t",
    };
    static const char *const not_blank[] = {
        "a", " a", "a ", " . ", "\xC3\xA9",
        "\xE2\x80\x8B",             /* U+200B zero width space: not White_Space */
        "\xE1\xA0\x8E",             /* U+180E: not White_Space since Unicode 6.3 */
        "\xEF\xBB\xBF",             /* U+FEFF BOM */
        "\x1F",                     /* a control that is not White_Space */
        "\xE3\x80\x80x",
        " \xC3",                    /* invalid UTF-8 is not "nothing" */
    };
    apr_size_t i;

    (void)state;
    assert_true(todo_util_is_blank(NULL));
    for (i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        if (!todo_util_is_blank(blank[i])) {
            fail_msg("blank[%d] not blank", (int)i);
        }
    }
    for (i = 0; i < sizeof(not_blank) / sizeof(not_blank[0]); i++) {
        if (todo_util_is_blank(not_blank[i])) {
            fail_msg("not_blank[%d] taken as blank", (int)i);
        }
    }
}

/* -------------------------------------------------------------- RFC 3339 */

static void assert_rfc3339(apr_pool_t *p, const char *in, const char *want)
{
    const char *norm = NULL;

    if (todo_util_rfc3339_parse(p, in, &norm) != 0) {
        fail_msg("rejected: %s", in);
    }
    assert_non_null(norm);
    assert_string_equal(norm, want);
    /* normalized may be NULL */
    assert_int_equal(todo_util_rfc3339_parse(p, in, NULL), 0);
}

static void test_rfc3339_valid(void **state)
{
    apr_pool_t *p = *state;

    assert_rfc3339(p, "2026-11-22T10:31:59Z", "2026-11-22T10:31:59Z");
    assert_rfc3339(p, "2026-02-28T23:59:59Z", "2026-02-28T23:59:59Z");
    assert_rfc3339(p, "2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z");
    assert_rfc3339(p, "2026-11-22T10:31:59.979377Z",
                   "2026-11-22T10:31:59.979377Z");
    assert_rfc3339(p, "2026-11-22t10:31:59z", "2026-11-22T10:31:59Z");
    assert_rfc3339(p, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z");
    assert_rfc3339(p, "9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z");
    assert_rfc3339(p, "9999-12-31T23:59:59.999999Z",
                   "9999-12-31T23:59:59.999999Z");
    assert_rfc3339(p, "9999-12-31T23:59:59.9999994Z",
                   "9999-12-31T23:59:59.9999994Z");
    assert_rfc3339(p, "2026-01-31T00:00:00Z", "2026-01-31T00:00:00Z");
    assert_rfc3339(p, "2026-04-30T00:00:00Z", "2026-04-30T00:00:00Z");
    assert_rfc3339(p, "2026-12-31T00:00:00Z", "2026-12-31T00:00:00Z");
    assert_rfc3339(p, "1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z");
}

/* Offsets are converted: the result is the same instant in UTC. */
static void test_rfc3339_to_utc(void **state)
{
    apr_pool_t *p = *state;

    assert_rfc3339(p, "2024-02-29T00:00:00+05:30", "2024-02-28T18:30:00Z");
    assert_rfc3339(p, "2026-11-22t10:31:59.5+02:00",
                   "2026-11-22T08:31:59.5Z");
    assert_rfc3339(p, "2026-11-22T10:31:59-00:00", "2026-11-22T10:31:59Z");
    assert_rfc3339(p, "2026-11-22T10:31:59+00:00", "2026-11-22T10:31:59Z");
    /* PostgreSQL refuses offsets over 15:59; RFC 3339 allows 23:59. */
    assert_rfc3339(p, "2026-11-22T10:31:59.123456789-23:59",
                   "2026-11-23T10:30:59.123456789Z");
    assert_rfc3339(p, "2026-03-01T00:00:00+23:59", "2026-02-28T00:01:00Z");
    assert_rfc3339(p, "2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z");
    assert_rfc3339(p, "2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00Z");
    assert_rfc3339(p, "1970-01-01T00:30:00+01:00", "1969-12-31T23:30:00Z");
    /* A leap second is the next minute's first, as PostgreSQL has it. */
    assert_rfc3339(p, "2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z");
    assert_rfc3339(p, "2016-12-31T23:59:60.25Z", "2017-01-01T00:00:00.25Z");
    /* The edges of 0001-9999, reached through an offset. */
    assert_rfc3339(p, "0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00Z");
    assert_rfc3339(p, "9999-12-31T22:59:59-01:00", "9999-12-31T23:59:59Z");
}

static void test_rfc3339_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-02-29T00:00:00Z",         /* 2026 is no leap year */
        "1900-02-29T00:00:00Z",         /* nor is 1900 */
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T23:60:00Z",
        "2026-11-22T23:59:61Z",
        "2026-11-22",                   /* date only */
        "2026-11-22T10:31Z",            /* no seconds */
        "2026-11-22T10:31:59",          /* no offset */
        "2026-11-22T10:31:59+24:00",
        "2026-11-22T10:31:59+05:60",
        "2026-11-22T10:31:59+0530",
        "2026-11-22T10:31:59+05",
        "2026-11-22T10:31:59Zjunk",
        "2026-11-22T10:31:59Z ",
        " 2026-11-22T10:31:59Z",
        "2026-11-22T10:31:59+05:30x",
        "0000-01-01T00:00:00Z",
        /* Valid text, but the instant is outside 0001-9999 in UTC (also
         * once PostgreSQL rounds it to microseconds). */
        "0001-01-01T00:00:00+00:01",
        "0001-01-01T00:59:59+01:00",
        "9999-12-31T23:59:59-00:01",
        "9999-12-31T23:30:00-01:00",
        "9999-12-31T23:59:60Z",
        "9999-12-31T23:59:59.9999995Z",
        "9999-12-31T23:59:59.999999999Z",
        "9999-12-31T22:59:59.9999999-01:00",
        "2026-11-22T10:31:59.1234567890Z",  /* 10 fraction digits */
        "2026-11-22T10:31:59.Z",
        "2026-11-22 10:31:59Z",         /* space instead of T */
        "2026-11-22X10:31:59Z",
        "26-11-22T10:31:59Z",
        "20261-11-22T10:31:59Z",
        "2026-1-22T10:31:59Z",
        "2026-11-22T1:31:59Z",
        "2026/11/22T10:31:59Z",
        "2026-11-22T10-31-59Z",
        "+2026-11-22T10:31:59Z",
        "2026-11-22T10:31:59,5Z",
        "2026-11-22T10:31:59UTC",
        "tomorrow",
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *norm = NULL;

        if (todo_util_rfc3339_parse(p, bad[i], &norm) != -1) {
            fail_msg("accepted: \"%s\"", bad[i]);
        }
    }
    assert_int_equal(todo_util_rfc3339_parse(p, NULL, NULL), -1);
}

/* ------------------------------------------------------------ format_time */

static void assert_time(apr_time_t t, const char *want)
{
    char out[TODO_UTIL_TS_LEN];

    memset(out, 'x', sizeof(out));
    todo_util_format_time(out, t);
    assert_string_equal(out, want);
    assert_int_equal(strlen(out), TODO_UTIL_TS_LEN - 1);
}

static void test_format_time(void **state)
{
    (void)state;
    assert_time(0, "1970-01-01T00:00:00.000000Z");
    assert_time(1, "1970-01-01T00:00:00.000001Z");
    assert_time(APR_TIME_C(1795343519) * APR_USEC_PER_SEC + 979377,
                "2026-11-22T10:31:59.979377Z");
    assert_time(APR_TIME_C(1795343519) * APR_USEC_PER_SEC,
                "2026-11-22T10:31:59.000000Z");
    assert_time(APR_TIME_C(1709251199) * APR_USEC_PER_SEC + 500000,
                "2024-02-29T23:59:59.500000Z");
    assert_time(APR_TIME_C(1709251200) * APR_USEC_PER_SEC,
                "2024-03-01T00:00:00.000000Z");
    /* before the epoch the microseconds still count up */
    assert_time(-1, "1969-12-31T23:59:59.999999Z");
    assert_time(-APR_USEC_PER_SEC, "1969-12-31T23:59:59.000000Z");
    assert_time(APR_TIME_C(-62135596800) * APR_USEC_PER_SEC,
                "0001-01-01T00:00:00.000000Z");
    assert_time(APR_TIME_C(253402300799) * APR_USEC_PER_SEC + 999999,
                "9999-12-31T23:59:59.999999Z");
}

static void test_format_time_now(void **state)
{
    apr_pool_t *p = *state;
    apr_time_t now = apr_time_now();
    apr_time_exp_t x;
    char out[TODO_UTIL_TS_LEN];
    const char *want;

    /* Agrees with APR's own calendar, and parses as RFC 3339. */
    todo_util_format_time(out, now);
    assert_int_equal(apr_time_exp_gmt(&x, now), APR_SUCCESS);
    want = apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                        x.tm_year + 1900, x.tm_mon + 1, x.tm_mday,
                        x.tm_hour, x.tm_min, x.tm_sec, x.tm_usec);
    assert_string_equal(out, want);
    assert_int_equal(todo_util_rfc3339_parse(p, out, NULL), 0);
}

/* -------------------------------------------------------- pg_time_convert */

static void assert_pg_time(const char *pg, const char *want)
{
    char out[TODO_UTIL_TS_LEN];

    memset(out, 'x', sizeof(out));
    assert_int_equal(todo_util_pg_time_convert(pg, out), 0);
    assert_string_equal(out, want);
    assert_int_equal(strlen(out), TODO_UTIL_TS_LEN - 1);
}

static void test_pg_time_convert(void **state)
{
    (void)state;
    assert_pg_time("2026-11-22 10:31:59.979377",
                   "2026-11-22T10:31:59.979377Z");
    /* PostgreSQL leaves out a zero fraction and trims trailing zeros. */
    assert_pg_time("2026-11-22 10:31:59", "2026-11-22T10:31:59.000000Z");
    assert_pg_time("2026-11-22 10:31:59.9", "2026-11-22T10:31:59.900000Z");
    assert_pg_time("2026-11-22 10:31:59.97", "2026-11-22T10:31:59.970000Z");
    assert_pg_time("2026-11-22 10:31:59.979",
                   "2026-11-22T10:31:59.979000Z");
    assert_pg_time("2026-11-22 10:31:59.9793",
                   "2026-11-22T10:31:59.979300Z");
    assert_pg_time("2026-11-22 10:31:59.97937",
                   "2026-11-22T10:31:59.979370Z");
    assert_pg_time("2026-11-22 10:31:59.000001",
                   "2026-11-22T10:31:59.000001Z");
    /* the edges of the years, days and times */
    assert_pg_time("0001-01-01 00:00:00", "0001-01-01T00:00:00.000000Z");
    assert_pg_time("9999-12-31 23:59:59.999999",
                   "9999-12-31T23:59:59.999999Z");
    assert_pg_time("2024-02-29 12:00:00", "2024-02-29T12:00:00.000000Z");
    assert_pg_time("2000-02-29 12:00:00", "2000-02-29T12:00:00.000000Z");
}

static void test_pg_time_convert_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        /* the other DateStyles */
        "22.11.2026 10:31:59.979377",               /* German */
        "11/22/2026 10:31:59.979377",               /* SQL, MDY */
        "22/11/2026 10:31:59.979377",               /* SQL, DMY */
        "Sun Nov 22 10:31:59.979377 2026",          /* Postgres */
        /* outside the years 0001-9999 */
        "0001-01-01 00:00:00 BC",
        "0001-12-31 23:59:59.999999 BC",
        "10000-01-01 00:00:00",
        "0000-01-01 00:00:00",
        "infinity",
        "-infinity",
        /* fractions */
        "2026-11-22 10:31:59.9793771",              /* 7 digits */
        "2026-11-22 10:31:59.",
        "2026-11-22 10:31:59.+",
        /* trailing or missing text */
        "2026-11-22 10:31:59.979377Z",
        "2026-11-22 10:31:59.979377+00",
        "2026-11-22 10:31:59+00",
        "2026-11-22 10:31:59 ",
        "2026-11-22 10:31:59x",
        "2026-11-22 10:31:5",
        "2026-11-22 10:31",
        "2026-11-22",
        /* separators */
        "2026-11-22T10:31:59.979377",
        "2026-11-22  10:31:59",
        "2026/11/22 10:31:59",
        "2026-11-22 10.31.59",
        /* out of range */
        "2026-00-22 10:31:59",
        "2026-13-22 10:31:59",
        "2026-11-00 10:31:59",
        "2026-11-32 10:31:59",
        "2026-02-29 10:31:59",                      /* not a leap year */
        "1900-02-29 10:31:59",
        "2026-04-31 10:31:59",
        "2026-11-22 24:00:00",
        "2026-11-22 10:60:00",
        "2026-11-22 23:59:60",                      /* PostgreSQL never */
        /* signs and blanks in number fields */
        "+026-11-22 10:31:59",
        "2026-1-22 10:31:59",
        " 2026-11-22 10:31:59",
        "2026-11-22 1:31:59",
    };
    char out[TODO_UTIL_TS_LEN];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (todo_util_pg_time_convert(bad[i], out) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(todo_util_pg_time_convert(NULL, out), -1);
}

/* ----------------------------------------------------------------- ETags */

static void test_etag_write(void **state)
{
    char out[24];

    (void)state;
    todo_util_etag_write(out, 1);
    assert_string_equal(out, "\"1\"");
    todo_util_etag_write(out, 7);
    assert_string_equal(out, "\"7\"");
    todo_util_etag_write(out, 1234567890);
    assert_string_equal(out, "\"1234567890\"");
    todo_util_etag_write(out, APR_INT64_MAX);
    assert_string_equal(out, "\"9223372036854775807\"");
}

static void test_if_none_match(void **state)
{
    (void)state;
    assert_false(todo_util_if_none_match(NULL, 3));
    assert_false(todo_util_if_none_match("", 3));
    assert_true(todo_util_if_none_match("\"3\"", 3));
    assert_false(todo_util_if_none_match("\"3\"", 4));
    assert_false(todo_util_if_none_match("\"3\"", 33));
    assert_false(todo_util_if_none_match("\"33\"", 3));
    /* weak comparison: W/ does not matter */
    assert_true(todo_util_if_none_match("W/\"3\"", 3));
    assert_true(todo_util_if_none_match("*", 3));
    assert_true(todo_util_if_none_match(" * ", 1));
    assert_true(todo_util_if_none_match("\"1\", \"3\"", 3));
    assert_true(todo_util_if_none_match("\"1\",W/\"3\"", 3));
    assert_true(todo_util_if_none_match("\"1\" ,\t\"2\" , \"3\"", 3));
    assert_true(todo_util_if_none_match("  \"3\"  ", 3));
    assert_true(todo_util_if_none_match(",,\"3\",", 3));
    assert_true(todo_util_if_none_match("\"a,b\", \"3\"", 3));
    assert_false(todo_util_if_none_match("\"1\", \"2\"", 3));
    assert_false(todo_util_if_none_match("\"03\"", 3));
    assert_false(todo_util_if_none_match("3", 3));           /* unquoted */
    assert_false(todo_util_if_none_match("w/\"3\"", 3));     /* W is upper-case */
    assert_false(todo_util_if_none_match("\"3", 3));         /* unterminated */
    assert_false(todo_util_if_none_match("\"3\"x", 3));
    assert_true(todo_util_if_none_match("\"9223372036854775807\"",
                                        APR_INT64_MAX));
}

static void assert_if_match(apr_pool_t *p, const char *header,
                            const char *want)
{
    const char *got = todo_util_if_match_versions(p, header);

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
    assert_if_match(p, "\"1\", *", NULL);          /* "*" even in a list */
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

/* ------------------------------------------------------------ media type */

static void test_is_json_media_type(void **state)
{
    (void)state;
    assert_true(todo_util_is_json_media_type("application/json"));
    assert_true(todo_util_is_json_media_type("Application/JSON; charset=utf-8"));
    assert_true(todo_util_is_json_media_type("APPLICATION/JSON"));
    assert_true(todo_util_is_json_media_type("application/json;charset=UTF-8"));
    assert_true(todo_util_is_json_media_type("  application/json  "));
    assert_true(todo_util_is_json_media_type("application/json ; charset=utf-8"));
    assert_true(todo_util_is_json_media_type("\tapplication/json\t"));
    assert_false(todo_util_is_json_media_type(NULL));
    assert_false(todo_util_is_json_media_type(""));
    assert_false(todo_util_is_json_media_type("   "));
    assert_false(todo_util_is_json_media_type("application/jsonx"));
    assert_false(todo_util_is_json_media_type("application/json-patch+json"));
    assert_false(todo_util_is_json_media_type("application/merge-patch+json"));
    assert_false(todo_util_is_json_media_type("text/json"));
    assert_false(todo_util_is_json_media_type("application/jso"));
    assert_false(todo_util_is_json_media_type("application/json x"));
    assert_false(todo_util_is_json_media_type("text/plain"));
    assert_false(todo_util_is_json_media_type("application/x-www-form-urlencoded"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test(test_uuid_invalid),
        cmocka_unit_test(test_utf8_length_valid),
        cmocka_unit_test(test_utf8_length_invalid),
        cmocka_unit_test(test_is_blank),
        cmocka_unit_test_setup_teardown(test_rfc3339_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc3339_to_utc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc3339_invalid, setup, teardown),
        cmocka_unit_test(test_format_time),
        cmocka_unit_test_setup_teardown(test_format_time_now, setup, teardown),
        cmocka_unit_test(test_pg_time_convert),
        cmocka_unit_test(test_pg_time_convert_invalid),
        cmocka_unit_test(test_etag_write),
        cmocka_unit_test(test_if_none_match),
        cmocka_unit_test_setup_teardown(test_if_match_versions, setup, teardown),
        cmocka_unit_test(test_is_json_media_type),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests_name("todo_util", tests, NULL, NULL);
    apr_terminate();
    return rc;
}
