/* todo_util: small pure helpers shared by the core (text, time, ids, ETags).
 * Free of httpd. */
#ifndef TODO_UTIL_H
#define TODO_UTIL_H

#include <apr_pools.h>
#include <apr_time.h>

/* The value of a hexadecimal digit (either case), or -1. */
int todo_util_hex_value(unsigned char c);

/* 1 when s is exactly a UUID in 8-4-4-4-12 hex form (either case). */
int todo_util_is_uuid(const char *s);

/* Number of Unicode code points in the n bytes at s, or -1 when they are
 * not valid UTF-8 (overlongs, surrogates, > U+10FFFF included). */
long todo_util_utf8_length(const char *s, apr_size_t n);

/* 1 when s (valid UTF-8) is empty or holds only Unicode White_Space code
 * points (U+0009-000D, 0020, 0085, 00A0, 1680, 2000-200A, 2028, 2029,
 * 202F, 205F, 3000). */
int todo_util_is_blank(const char *s);

/* Parse an RFC 3339 date-time ("2026-11-22T10:31:59Z",
 * "2026-11-22t10:31:59.5+02:00"): full-date "T" full-time with a "Z" or
 * numeric offset (up to +-23:59), calendar-valid (leap years; second 60
 * allowed), at most 9 fraction digits, and an instant of the years
 * 0001-9999 in UTC (also after PostgreSQL rounds it to microseconds).
 * On success returns 0 and, when normalized is not NULL, the same instant
 * in UTC in p ("2026-11-22T08:31:59.5Z"; the fraction as given, a leap
 * second as the next minute's first), which PostgreSQL parses as
 * timestamptz whatever the offset; -1 otherwise. */
int todo_util_rfc3339_parse(apr_pool_t *p, const char *s,
                            const char **normalized);

/* Format t as RFC 3339 UTC with microseconds: "2026-11-22T10:31:59.979377Z".
 * out must hold TODO_UTIL_TS_LEN bytes (NUL included). */
#define TODO_UTIL_TS_LEN 28
void todo_util_format_time(char *out, apr_time_t t);

/* Turn PostgreSQL's text of a UTC timestamp under DateStyle ISO
 * ("2026-11-22 10:31:59.979377"; the fraction has 1-6 digits, or is left
 * out when zero) into the API's form, "2026-11-22T10:31:59.979377Z" with
 * always 6 fraction digits, in out (TODO_UTIL_TS_LEN bytes).  Strict:
 * a 4-digit year (0001-9999), a valid date, 00:00:00-23:59:59 and nothing
 * after the fraction.  Returns 0, or -1 for anything else (NULL, another
 * DateStyle, a BC date, a 5-digit year), leaving out unspecified. */
int todo_util_pg_time_convert(const char *pg, char *out);

/* ETags.  A task's ETag is the quoted decimal version: "\"7\"".
 * todo_util_etag_write writes it into out (>= 24 bytes). */
void todo_util_etag_write(char *out, apr_int64_t version);

/* If-None-Match (weak comparison, RFC 9110 13.1.2): 1 when the header
 * value lists "*" or an ETag (weak or strong) equal to version's. */
int todo_util_if_none_match(const char *header, apr_int64_t version);

/* If-Match (strong comparison, RFC 9110 13.1.1), turned into what the SQL
 * condition needs: NULL when header is NULL or lists "*" (no version
 * condition), otherwise a PostgreSQL int array literal of the versions it
 * names, e.g. "{3,4}" -- "{}" when it names none we could ever have (weak
 * or malformed tags), which makes the write fail with 412. */
const char *todo_util_if_match_versions(apr_pool_t *p, const char *header);

/* Case-insensitive ASCII compare of a media type against
 * "application/json", ignoring parameters (";charset=utf-8") and
 * surrounding blanks.  1 on match. */
int todo_util_is_json_media_type(const char *content_type);

#endif
