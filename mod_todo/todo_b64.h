/* todo_b64: strict base64url without padding (RFC 4648 section 5, as JWS
 * uses it, RFC 7515 section 2).  Free of httpd. */
#ifndef TODO_B64_H
#define TODO_B64_H

#include <apr_pools.h>

typedef struct {
    unsigned char *data;
    apr_size_t len;
} todo_bytes_t;

/* Decode the n characters at s into out (allocated in p).  Only the url
 * alphabet, no padding, and only the canonical spelling: unused trailing
 * bits must be zero.  Returns 0, or -1 for anything else. */
int todo_b64_decode(apr_pool_t *p, const char *s, apr_size_t n,
                    todo_bytes_t *out);

/* The base64url text of n bytes, NUL-terminated, in p. */
const char *todo_b64_encode(apr_pool_t *p, const void *data, apr_size_t n);

#endif
