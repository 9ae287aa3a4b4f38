/* todo_text: checks on text the API receives -- UTF-8, UUIDs, hex
 * digits, media types.  Free of httpd: only APR and the C library. */
#include "todo_text.h"

#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ ids */

int todo_text_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int todo_text_is_uuid(const char *s)
{
    int i;

    if (s == NULL) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        unsigned char c = (unsigned char)s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return 0;
            }
        }
        else if (todo_text_hex_value(c) < 0) {
            /* Also stops at the NUL of a short string. */
            return 0;
        }
    }
    return s[36] == '\0';
}

/* ----------------------------------------------------------------- UTF-8 */

/* Decode one code point from the n (> 0) bytes at s.  Returns the bytes it
 * takes (1-4), or 0 when they are not well-formed UTF-8 (RFC 3629): the
 * ranges of the second byte below are what rule out overlong forms,
 * surrogates and code points above U+10FFFF. */
static apr_size_t utf8_decode(const unsigned char *s, apr_size_t n,
                              apr_uint32_t *cp)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    apr_size_t len, i;
    apr_uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) { /* stray continuation or overlong C0/C1 */
        return 0;
    }
    if (c < 0xE0) {
        len = 2;
        v = c & 0x1F;
    }
    else if (c < 0xF0) {
        len = 3;
        v = c & 0x0F;
        if (c == 0xE0) {
            lo = 0xA0; /* overlong below U+0800 */
        }
        else if (c == 0xED) {
            hi = 0x9F; /* U+D800-DFFF surrogates */
        }
    }
    else if (c < 0xF5) {
        len = 4;
        v = c & 0x07;
        if (c == 0xF0) {
            lo = 0x90; /* overlong below U+10000 */
        }
        else if (c == 0xF4) {
            hi = 0x8F; /* above U+10FFFF */
        }
    }
    else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

long todo_text_utf8_length(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;
    long count = 0;

    while (i < n) {
        apr_uint32_t cp;
        apr_size_t k;

        if (u[i] < 0x80) { /* the common case: no decoding needed */
            i++;
            count++;
            continue;
        }
        k = utf8_decode(u + i, n - i, &cp);
        if (k == 0) {
            return -1;
        }
        i += k;
        count++;
    }
    return count;
}

static int is_white_space(apr_uint32_t cp)
{
    switch (cp) {
    case 0x0020:
    case 0x0085:
    case 0x00A0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return 1;
    }
    return (cp >= 0x0009 && cp <= 0x000D) || (cp >= 0x2000 && cp <= 0x200A);
}

int todo_text_is_blank(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n, i = 0;

    if (s == NULL) {
        return 1;
    }
    n = strlen(s);

    while (i < n) {
        apr_uint32_t cp;
        apr_size_t k = utf8_decode(u + i, n - i, &cp);

        /* Invalid UTF-8 is something, not nothing: not blank. */
        if (k == 0 || !is_white_space(cp)) {
            return 0;
        }
        i += k;
    }
    return 1;
}

/* ------------------------------------------------------------ media type */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* ------------------------------------------------------------ media type */

int todo_text_is_json_type(const char *content_type)
{
    static const char json[] = "application/json";
    const char *s = content_type;

    if (s == NULL) {
        return 0;
    }
    while (is_ows(*s)) {
        s++;
    }
    if (strncasecmp(s, json, sizeof(json) - 1) != 0) {
        return 0;
    }
    s += sizeof(json) - 1;
    while (is_ows(*s)) {
        s++;
    }
    return *s == '\0' || *s == ';';
}
