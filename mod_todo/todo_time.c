/* todo_time: timestamps -- RFC 3339 from clients, PostgreSQL's ISO text
 * from the database, and the API's own form.  Free of httpd. */
#include "todo_time.h"

#include <string.h>

#include <apr_strings.h>

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* n decimal digits at s as a number, or -1 when one of them is not a digit
 * (a NUL included, so a short string never reads past its end). */
static int digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 -> civil date, for the proleptic Gregorian
 * calendar (H. Hinnant's algorithm): no gmtime_r, no time_t range limits. */
static void civil_from_days(apr_int64_t z, int *y, int *m, int *d)
{
    apr_int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void put_digits(char *out, long v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* The fields of an RFC 3339 date-time, as written. */
typedef struct {
    int year, mon, day, hour, min, sec;
    const char *frac; /* the fraction's digits, or NULL */
    int frac_len;
    int offset; /* minutes east of UTC */
} rfc3339_t;

/* Scan the time-offset at z into *offset; returns its end or NULL. */
static const char *scan_offset(const char *z, int *offset)
{
    int oh, om;

    if (*z == 'Z' || *z == 'z') {
        *offset = 0;
        return z + 1;
    }
    if (*z != '+' && *z != '-') {
        return NULL;
    }
    oh = digits(z + 1, 2);
    if (oh < 0 || oh > 23 || z[3] != ':' || (om = digits(z + 4, 2)) < 0
        || om > 59) {
        return NULL;
    }
    *offset = (*z == '-' ? -1 : 1) * (oh * 60 + om);
    return z + 6;
}

/* The end of the date-time at s (time-secfrac and time-offset included),
 * or NULL when s does not start with one; its fields go to *t. */
static const char *rfc3339_scan(const char *s, rfc3339_t *t)
{
    const char *z;

    /* full-date "T" partial-time: fixed positions up to the seconds. */
    t->year = digits(s, 4);
    if (t->year < 1 || s[4] != '-' || (t->mon = digits(s + 5, 2)) < 1
        || t->mon > 12 || s[7] != '-' || (t->day = digits(s + 8, 2)) < 1
        || t->day > days_in_month(t->year, t->mon)
        || (s[10] != 'T' && s[10] != 't') || (t->hour = digits(s + 11, 2)) < 0
        || t->hour > 23 || s[13] != ':' || (t->min = digits(s + 14, 2)) < 0
        || t->min > 59 || s[16] != ':' || (t->sec = digits(s + 17, 2)) < 0
        || t->sec > 60) {
        return NULL;
    }
    z = s + 19;
    t->frac = NULL;
    t->frac_len = 0;
    if (*z == '.') {
        t->frac = ++z;
        for (; *z >= '0' && *z <= '9'; z++) {
            t->frac_len++;
        }
        if (t->frac_len < 1 || t->frac_len > 9) {
            return NULL;
        }
    }
    return scan_offset(z, &t->offset);
}

/* Days since 1970-01-01 of a civil date in the proleptic Gregorian
 * calendar (H. Hinnant's algorithm, the inverse of civil_from_days). */
static apr_int64_t days_from_civil(int y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Whether a fraction rounds up to a whole second at the microseconds
 * PostgreSQL keeps: six nines and then 5 or more. */
static int frac_rounds_up(const rfc3339_t *t)
{
    return t->frac_len > 6 && !strncmp(t->frac, "999999", 6)
           && t->frac[6] >= '5';
}

/* Write "YYYY-MM-DDTHH:MM:SS" (19 characters, no NUL) for secs since the
 * epoch, years 0001-9999. */
static void put_datetime(char *out, apr_int64_t secs)
{
    apr_int64_t days = secs / 86400, sod = secs % 86400;
    int y, m, d;

    /* Floor division: before 1970 the time of day is still positive. */
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    memcpy(out, "0000-00-00T00:00:00", 19);
    put_digits(out, y, 4);
    put_digits(out + 5, m, 2);
    put_digits(out + 8, d, 2);
    put_digits(out + 11, (long)(sod / 3600), 2);
    put_digits(out + 14, (long)(sod / 60 % 60), 2);
    put_digits(out + 17, (long)(sod % 60), 2);
}

/* "YYYY-MM-DDTHH:MM:SS[.fraction]Z" for secs since the epoch (in years
 * 0001-9999) and the fraction digits as given. */
static const char *utc_text(apr_pool_t *p, apr_int64_t secs,
                            const rfc3339_t *t)
{
    char *out = apr_palloc(p, sizeof("YYYY-MM-DDTHH:MM:SS.123456789Z"));
    char *o = out + 19;

    put_datetime(out, secs);
    if (t->frac != NULL) {
        *o++ = '.';
        memcpy(o, t->frac, (apr_size_t)t->frac_len);
        o += t->frac_len;
    }
    memcpy(o, "Z", 2);
    return out;
}

int todo_time_rfc3339_parse(apr_pool_t *p, const char *s,
                            const char **normalized)
{
    /* The instants a 4-digit year can show in UTC, in seconds. */
    const apr_int64_t first = days_from_civil(1, 1, 1) * 86400;
    const apr_int64_t end = days_from_civil(10000, 1, 1) * 86400;
    const char *stop;
    apr_int64_t secs;
    rfc3339_t t;

    if (s == NULL || (stop = rfc3339_scan(s, &t)) == NULL || *stop != '\0') {
        return -1;
    }
    /* The same instant in UTC.  PostgreSQL only takes offsets up to 15:59,
     * and renders years outside 0001-9999 in a form RFC 3339 has not: so
     * we convert, and refuse what could not be written back.  A leap
     * second (:60) becomes the next minute's first, as in PostgreSQL. */
    secs = days_from_civil(t.year, t.mon, t.day) * 86400 + t.hour * 3600
           + t.min * 60 + t.sec - (apr_int64_t)t.offset * 60;
    if (secs < first || secs >= end
        || (secs == end - 1 && frac_rounds_up(&t))) {
        return -1;
    }
    if (normalized != NULL) {
        *normalized = utc_text(p, secs, &t);
    }
    return 0;
}

/* 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in microseconds since
 * the epoch: the range a 4-digit year can show. */
#define TS_MIN (-62167219200LL * APR_USEC_PER_SEC)
#define TS_END (253402300800LL * APR_USEC_PER_SEC)

void todo_time_format(char *out, apr_time_t t)
{
    apr_int64_t secs;
    long usec;

    if (t < TS_MIN) {
        t = TS_MIN;
    }
    else if (t >= TS_END) {
        t = TS_END - 1;
    }
    /* Floor division: a time before 1970 still has 0-999999 microseconds. */
    secs = t / APR_USEC_PER_SEC;
    usec = (long)(t % APR_USEC_PER_SEC);
    if (usec < 0) {
        usec += APR_USEC_PER_SEC;
        secs--;
    }
    memcpy(out, "0000-00-00T00:00:00.000000Z", TODO_TIME_LEN);
    put_datetime(out, secs);
    put_digits(out + 20, usec, 6);
}

/* The end of a fraction of 1-6 digits at s, copied to out (6 bytes,
 * already zero-padded), or NULL. */
static const char *pg_fraction(const char *s, char *out)
{
    int n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 6) {
            return NULL;
        }
        out[n] = s[n];
        n++;
    }
    return n ? s + n : NULL;
}

int todo_time_from_pg(const char *pg, char *out)
{
    const char *end;
    int year, mon, day, hour, min, sec;

    /* "YYYY-MM-DD HH:MM:SS": fixed positions; digits() stops at a NUL. */
    if (pg == NULL || (year = digits(pg, 4)) < 1 || pg[4] != '-'
        || (mon = digits(pg + 5, 2)) < 1 || mon > 12 || pg[7] != '-'
        || (day = digits(pg + 8, 2)) < 1 || day > days_in_month(year, mon)
        || pg[10] != ' ' || (hour = digits(pg + 11, 2)) < 0 || hour > 23
        || pg[13] != ':' || (min = digits(pg + 14, 2)) < 0 || min > 59
        || pg[16] != ':' || (sec = digits(pg + 17, 2)) < 0 || sec > 59) {
        return -1;
    }
    memcpy(out, "0000-00-00T00:00:00.000000Z", TODO_TIME_LEN);
    end = pg + 19;
    if (*end == '.' && (end = pg_fraction(end + 1, out + 20)) == NULL) {
        return -1;
    }
    if (*end != '\0') {
        return -1; /* " BC", a time zone, a longer year... */
    }
    memcpy(out, pg, 10);
    memcpy(out + 11, pg + 11, 8);
    return 0;
}
