#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include "todo_buf.h"

void todo_buf_init(todo_buf_t *b, apr_pool_t *p, apr_size_t initial)
{
    b->pool = p;
    b->cap = initial < 64 ? 64 : initial;
    b->data = apr_palloc(p, b->cap);
    b->len = 0;
}

/* Make room for n more bytes plus a terminating NUL.  Pool memory cannot be
 * freed piecemeal, so grow geometrically to keep the waste bounded. */
static void reserve(todo_buf_t *b, apr_size_t n)
{
    apr_size_t need = b->len + n + 1;
    apr_size_t cap;
    char *nd;

    if (need <= b->cap) {
        return;
    }
    for (cap = b->cap * 2; cap < need; cap *= 2) {
        ;
    }
    nd = apr_palloc(b->pool, cap);
    memcpy(nd, b->data, b->len);
    b->data = nd;
    b->cap = cap;
}

void todo_buf_append(todo_buf_t *b, const char *s, apr_size_t n)
{
    reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

void todo_buf_puts(todo_buf_t *b, const char *s)
{
    todo_buf_append(b, s, strlen(s));
}

void todo_buf_putc(todo_buf_t *b, char c)
{
    reserve(b, 1);
    b->data[b->len++] = c;
}

void todo_buf_printf(todo_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    char small[128];
    int n;

    va_start(ap, fmt);
    n = apr_vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n >= 0 && (apr_size_t)n < sizeof(small) - 1) {
        todo_buf_append(b, small, (apr_size_t)n);
        return;
    }
    va_start(ap, fmt);
    todo_buf_puts(b, apr_pvsprintf(b->pool, fmt, ap));
    va_end(ap);
}

/* Whether any of the 8 bytes in w may need escaping: a control character
 * (< 0x20), '"' or '\\'.  Bit tricks on a whole word ("SWAR"); a borrow
 * can flag a harmless byte (the caller then looks at each byte), never
 * miss one.  Most text has nothing to escape, so this skips it 8 bytes at
 * a time: escaping was the module's largest cost on list responses. */
static int maybe_special(apr_uint64_t w)
{
    const apr_uint64_t ones = APR_UINT64_C(0x0101010101010101);
    const apr_uint64_t highs = APR_UINT64_C(0x8080808080808080);
    apr_uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');

    return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs))
                   & highs
               ? 1
               : 0;
}

/* Append the escape sequence of one special byte. */
static void put_escape(todo_buf_t *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char *o = b->data + b->len;

    o[0] = '\\';
    switch (c) {
    case '"':
        o[1] = '"';
        break;
    case '\\':
        o[1] = '\\';
        break;
    case '\n':
        o[1] = 'n';
        break;
    case '\r':
        o[1] = 'r';
        break;
    case '\t':
        o[1] = 't';
        break;
    case '\b':
        o[1] = 'b';
        break;
    case '\f':
        o[1] = 'f';
        break;
    default:
        memcpy(o + 1, "u00", 3);
        o[4] = hex[c >> 4];
        o[5] = hex[c & 0xf];
        b->len += 6;
        return;
    }
    b->len += 2;
}

void todo_buf_json_string_n(todo_buf_t *b, const char *s, apr_size_t n)
{
    apr_size_t i = 0, run = 0;

    /* Worst case every byte becomes \u00XX. */
    reserve(b, n * 6 + 2);
    b->data[b->len++] = '"';
    while (i < n) {
        apr_uint64_t w;
        unsigned char c;

        if (i + 8 <= n) {
            memcpy(&w, s + i, 8);
            if (!maybe_special(w)) {
                i += 8;
                continue;
            }
        }
        c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        /* Flush the plain run before the byte that needs escaping. */
        memcpy(b->data + b->len, s + run, i - run);
        b->len += i - run;
        put_escape(b, c);
        run = ++i;
    }
    memcpy(b->data + b->len, s + run, n - run);
    b->len += n - run;
    b->data[b->len++] = '"';
}

void todo_buf_json_string(todo_buf_t *b, const char *s)
{
    todo_buf_json_string_n(b, s, strlen(s));
}

const char *todo_buf_cstr(todo_buf_t *b)
{
    reserve(b, 0);
    b->data[b->len] = '\0';
    return b->data;
}
