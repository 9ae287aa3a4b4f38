/* todo_etag: a task's ETag and the conditional request headers
 * (RFC 9110 section 13).  Free of httpd. */
#include "todo_etag.h"

#include <string.h>

#include <apr_strings.h>

/* Decimal form of v into out (>= 21 bytes); returns its length. */
static apr_size_t int64_decimal(char *out, apr_int64_t v)
{
    char tmp[20];
    apr_uint64_t u = v < 0 ? 0 - (apr_uint64_t)v : (apr_uint64_t)v;
    apr_size_t n = 0, len = 0;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        out[len++] = '-';
    }
    while (n > 0) {
        out[len++] = tmp[--n];
    }
    out[len] = '\0';
    return len;
}

void todo_etag_write(char *out, apr_int64_t version)
{
    apr_size_t n;

    out[0] = '"';
    n = int64_decimal(out + 1, version);
    out[n + 1] = '"';
    out[n + 2] = '\0';
}

/* One element of an If-Match / If-None-Match list (RFC 9110 8.8.3):
 *   "*"  or  [ "W/" ] DQUOTE *etagc DQUOTE
 * separated by commas with optional blanks; empty elements are allowed. */
typedef enum { ETAG_END, ETAG_STAR, ETAG_TAG, ETAG_BAD } etag_kind_e;

typedef struct {
    int weak;
    const char *opaque; /* between the quotes */
    apr_size_t len;
} etag_t;

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Read the next element at *sp and advance past it and its comma. */
static etag_kind_e etag_next(const char **sp, etag_t *tag)
{
    const char *s = *sp;
    etag_kind_e kind;

    while (is_ows(*s) || *s == ',') {
        s++;
    }
    if (*s == '\0') {
        *sp = s;
        return ETAG_END;
    }
    tag->weak = 0;
    if (*s == '*') {
        kind = ETAG_STAR;
        s++;
    }
    else {
        const char *q;

        if (s[0] == 'W' && s[1] == '/') {
            tag->weak = 1;
            s += 2;
        }
        if (*s != '"' || (q = strchr(s + 1, '"')) == NULL) {
            return ETAG_BAD;
        }
        tag->opaque = s + 1;
        tag->len = (apr_size_t)(q - s - 1);
        kind = ETAG_TAG;
        s = q + 1;
    }
    while (is_ows(*s)) {
        s++;
    }
    if (*s != ',' && *s != '\0') {
        return ETAG_BAD;
    }
    *sp = s;
    return kind;
}

int todo_etag_none_match(const char *header, apr_int64_t version)
{
    char ours[24];
    apr_size_t len;
    etag_t tag;
    etag_kind_e kind;

    if (header == NULL) {
        return 0;
    }
    len = int64_decimal(ours, version);
    while ((kind = etag_next(&header, &tag)) != ETAG_END) {
        if (kind == ETAG_STAR) {
            return 1;
        }
        if (kind == ETAG_BAD) {
            /* Unparseable: no match, so the client just gets the body. */
            return 0;
        }
        /* Weak comparison: the W/ prefix does not matter. */
        if (tag.len == len && memcmp(tag.opaque, ours, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 when the n bytes at s are the decimal form we write for a positive
 * int64 version: digits only, no leading zero, no overflow. */
static int is_version_text(const char *s, apr_size_t n)
{
    static const char max[] = "9223372036854775807";
    apr_size_t i;

    if (n == 0 || n > sizeof(max) - 1 || s[0] == '0') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return n < sizeof(max) - 1 || memcmp(s, max, n) <= 0;
}

const char *todo_etag_match_versions(apr_pool_t *p, const char *header)
{
    const char *s = header;
    char *out, *o;
    etag_t tag;
    etag_kind_e kind;

    if (header == NULL) {
        return NULL;
    }
    /* Every version written is copied from the header and takes at least
     * 3 bytes there ("N" plus a comma or the end), so this is enough. */
    o = out = apr_palloc(p, strlen(header) + 3);
    *o++ = '{';
    while ((kind = etag_next(&s, &tag)) != ETAG_END) {
        if (kind == ETAG_STAR) {
            return NULL;
        }
        if (kind == ETAG_BAD) {
            /* A precondition we cannot read must not let a write through. */
            return "{}";
        }
        /* Strong comparison: a weak tag never matches. */
        if (!tag.weak && is_version_text(tag.opaque, tag.len)) {
            if (o > out + 1) {
                *o++ = ',';
            }
            memcpy(o, tag.opaque, tag.len);
            o += tag.len;
        }
    }
    *o++ = '}';
    *o = '\0';
    return out;
}
