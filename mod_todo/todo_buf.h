/* todo_buf: a growable byte buffer in an APR pool, with JSON string
 * escaping.  Responses are built in one of these and handed to httpd as a
 * single block, so a response costs a handful of pool allocations. */
#ifndef TODO_BUF_H
#define TODO_BUF_H

#include <apr_pools.h>

typedef struct {
    apr_pool_t *pool;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} todo_buf_t;

void todo_buf_init(todo_buf_t *b, apr_pool_t *p, apr_size_t initial);
void todo_buf_append(todo_buf_t *b, const char *s, apr_size_t n);
void todo_buf_puts(todo_buf_t *b, const char *s);
void todo_buf_putc(todo_buf_t *b, char c);
void todo_buf_printf(todo_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s as a quoted JSON string.  s must be valid UTF-8 (what the
 * database and jansson hand us is); control characters are escaped. */
void todo_buf_json_string(todo_buf_t *b, const char *s);
void todo_buf_json_string_n(todo_buf_t *b, const char *s, apr_size_t n);
/* The contents, NUL-terminated (the NUL is not counted in len). */
const char *todo_buf_cstr(todo_buf_t *b);

#endif
