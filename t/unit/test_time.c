/* Unit tests of todo_time: RFC 3339, the API's time format and
 * PostgreSQL's timestamps. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "todo_test.h"
#include "todo_time.h"

static void assert_rfc3339(apr_pool_t *p, const char *in, const char *want)
{
    const char *norm = NULL;

    if (todo_time_rfc3339_parse(p, in, &norm) != 0) {
        fail_msg("rejected: %s", in);
    }
    assert_non_null(norm);
    assert_string_equal(norm, want);
    /* normalized may be NULL */
    assert_int_equal(todo_time_rfc3339_parse(p, in, NULL), 0);
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
    assert_rfc3339(p, "2026-11-22t10:31:59.5+02:00", "2026-11-22T08:31:59.5Z");
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
        "2026-02-29T00:00:00Z", /* 2026 is no leap year */
        "1900-02-29T00:00:00Z", /* nor is 1900 */
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T23:60:00Z",
        "2026-11-22T23:59:61Z",
        "2026-11-22",          /* date only */
        "2026-11-22T10:31Z",   /* no seconds */
        "2026-11-22T10:31:59", /* no offset */
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
        "2026-11-22T10:31:59.1234567890Z", /* 10 fraction digits */
        "2026-11-22T10:31:59.Z",
        "2026-11-22 10:31:59Z", /* space instead of T */
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

        if (todo_time_rfc3339_parse(p, bad[i], &norm) != -1) {
            fail_msg("accepted: \"%s\"", bad[i]);
        }
    }
    assert_int_equal(todo_time_rfc3339_parse(p, NULL, NULL), -1);
}

/* ------------------------------------------------------------ format_time */

static void assert_time(apr_time_t t, const char *want)
{
    char out[TODO_TIME_LEN];

    memset(out, 'x', sizeof(out));
    todo_time_format(out, t);
    assert_string_equal(out, want);
    assert_int_equal(strlen(out), TODO_TIME_LEN - 1);
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
    char out[TODO_TIME_LEN];
    const char *want;

    /* Agrees with APR's own calendar, and parses as RFC 3339. */
    todo_time_format(out, now);
    assert_int_equal(apr_time_exp_gmt(&x, now), APR_SUCCESS);
    want = apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                        x.tm_year + 1900, x.tm_mon + 1, x.tm_mday, x.tm_hour,
                        x.tm_min, x.tm_sec, x.tm_usec);
    assert_string_equal(out, want);
    assert_int_equal(todo_time_rfc3339_parse(p, out, NULL), 0);
}

/* -------------------------------------------------------- pg_time_convert */

static void assert_pg_time(const char *pg, const char *want)
{
    char out[TODO_TIME_LEN];

    memset(out, 'x', sizeof(out));
    assert_int_equal(todo_time_from_pg(pg, out), 0);
    assert_string_equal(out, want);
    assert_int_equal(strlen(out), TODO_TIME_LEN - 1);
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
    assert_pg_time("2026-11-22 10:31:59.979", "2026-11-22T10:31:59.979000Z");
    assert_pg_time("2026-11-22 10:31:59.9793", "2026-11-22T10:31:59.979300Z");
    assert_pg_time("2026-11-22 10:31:59.97937", "2026-11-22T10:31:59.979370Z");
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
        "22.11.2026 10:31:59.979377",      /* German */
        "11/22/2026 10:31:59.979377",      /* SQL, MDY */
        "22/11/2026 10:31:59.979377",      /* SQL, DMY */
        "Sun Nov 22 10:31:59.979377 2026", /* Postgres */
        /* outside the years 0001-9999 */
        "0001-01-01 00:00:00 BC",
        "0001-12-31 23:59:59.999999 BC",
        "10000-01-01 00:00:00",
        "0000-01-01 00:00:00",
        "infinity",
        "-infinity",
        /* fractions */
        "2026-11-22 10:31:59.9793771", /* 7 digits */
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
        "2026-02-29 10:31:59", /* not a leap year */
        "1900-02-29 10:31:59",
        "2026-04-31 10:31:59",
        "2026-11-22 24:00:00",
        "2026-11-22 10:60:00",
        "2026-11-22 23:59:60", /* PostgreSQL never */
        /* signs and blanks in number fields */
        "+026-11-22 10:31:59",
        "2026-1-22 10:31:59",
        " 2026-11-22 10:31:59",
        "2026-11-22 1:31:59",
    };
    char out[TODO_TIME_LEN];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (todo_time_from_pg(bad[i], out) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(todo_time_from_pg(NULL, out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_rfc3339_valid),
        todo_test_with_pool(test_rfc3339_to_utc),
        todo_test_with_pool(test_rfc3339_invalid),
        cmocka_unit_test(test_format_time),
        todo_test_with_pool(test_format_time_now),
        cmocka_unit_test(test_pg_time_convert),
        cmocka_unit_test(test_pg_time_convert_invalid),
    };

    return TODO_TEST_MAIN("todo_time", tests, NULL, NULL);
}
