/* todo_time: timestamps (RFC 3339, PostgreSQL's ISO text, the API's
 * form).  Free of httpd. */
#ifndef TODO_TIME_H
#define TODO_TIME_H

#include <apr_pools.h>
#include <apr_time.h>

/* Parse an RFC 3339 date-time ("2026-11-22T10:31:59Z",
 * "2026-11-22t10:31:59.5+02:00"): full-date "T" full-time with a "Z" or
 * numeric offset (up to +-23:59), calendar-valid (leap years; second 60
 * allowed), at most 9 fraction digits, and an instant of the years
 * 0001-9999 in UTC (also after PostgreSQL rounds it to microseconds).
 * On success returns 0 and, when normalized is not NULL, the same instant
 * in UTC in p ("2026-11-22T08:31:59.5Z"; the fraction as given, a leap
 * second as the next minute's first), which PostgreSQL parses as
 * timestamptz whatever the offset; -1 otherwise. */
int todo_time_rfc3339_parse(apr_pool_t *p, const char *s,
                            const char **normalized);

/* Format t as RFC 3339 UTC with microseconds: "2026-11-22T10:31:59.979377Z".
 * out must hold TODO_TIME_LEN bytes (NUL included). */
#define TODO_TIME_LEN 28
void todo_time_format(char *out, apr_time_t t);

/* Turn PostgreSQL's text of a UTC timestamp under DateStyle ISO
 * ("2026-11-22 10:31:59.979377"; the fraction has 1-6 digits, or is left
 * out when zero) into the API's form, "2026-11-22T10:31:59.979377Z" with
 * always 6 fraction digits, in out (TODO_TIME_LEN bytes).  Strict:
 * a 4-digit year (0001-9999), a valid date, 00:00:00-23:59:59 and nothing
 * after the fraction.  Returns 0, or -1 for anything else (NULL, another
 * DateStyle, a BC date, a 5-digit year), leaving out unspecified. */
int todo_time_from_pg(const char *pg, char *out);

#endif
