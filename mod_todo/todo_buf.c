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
    for (cap = b->cap * 2; cap < need; cap *= 2)
        ;
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

void todo_buf_json_string_n(todo_buf_t *b, const char *s, apr_size_t n)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t i, run = 0;

    /* Worst case every byte becomes \u00XX. */
    reserve(b, n * 6 + 2);
    b->data[b->len++] = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char *o;

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        /* Flush the plain run before the character that needs escaping. */
        memcpy(b->data + b->len, s + run, i - run);
        b->len += i - run;
        run = i + 1;
        switch (c) {
        case '"':  esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        }
        o = b->data + b->len;
        if (esc) {
            o[0] = esc[0];
            o[1] = esc[1];
            b->len += 2;
        }
        else {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 0xf];
            b->len += 6;
        }
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
