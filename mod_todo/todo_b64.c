/* todo_b64: base64url (RFC 4648 section 5, without padding), strict.
 * Tokens, JWKs and the module's own opaque tokens use it. */
#include "todo_b64.h"

#include <string.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/* Strict base64url (RFC 7515 section 2): url alphabet only, no padding,
 * and only the canonical encoding -- unused trailing bits must be zero, so
 * that one token has exactly one spelling (a cache keyed on the token text
 * cannot be fooled by aliases).  Returns 0 on success. */
int todo_b64_decode(apr_pool_t *p, const char *s, apr_size_t n,
                    todo_bytes_t *out)
{
    unsigned acc = 0, bits = 0;
    apr_size_t i, o = 0;

    if (n % 4 == 1) {
        return -1;
    }
    out->data = apr_palloc(p, n / 4 * 3 + 3);
    for (i = 0; i < n; i++) {
        int v = value_of((unsigned char)s[i]);

        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {
        return -1;
    }
    out->len = o;
    return 0;
}

const char *todo_b64_encode(apr_pool_t *p, const void *data, apr_size_t n)
{
    const unsigned char *d = data;
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1), *o = out;
    unsigned acc = 0, bits = 0;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        acc = (acc << 8) | d[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *o++ = alphabet[(acc >> bits) & 63];
        }
    }
    if (bits) {
        *o++ = alphabet[(acc << (6 - bits)) & 63];
    }
    *o = '\0';
    return out;
}
