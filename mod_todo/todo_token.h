/* todo_token: the opaque, tamper-evident tokens the API hands out -- list
 * cursors (docs/api.md §5) and sync tokens (§10).  Free of httpd.
 *
 * A token is base64url(payload || tag), the tag being the first 16 bytes
 * of HMAC-SHA256(key, purpose NUL user NUL payload).  The key is the
 * database's (sql/deploy/token_key.sql); the purpose keeps a cursor from
 * passing for a sync token and back; the user binds a token to the user
 * it was made for, without carrying the user id.  A token is not
 * encrypted: its payload is the client's own data (a sort key, an id,
 * snapshot numbers), only opaque by convention.
 *
 * Payloads are written with the byte writer below: unsigned LEB128
 * varints, bytes, and length-prefixed strings; the reader fails (-1) on
 * anything truncated or oversized rather than reading past the end. */
#ifndef TODO_TOKEN_H
#define TODO_TOKEN_H

#include <apr_pools.h>

#define TODO_TOKEN_TAG_LEN 16
#define TODO_TOKEN_KEY_MIN 32
/* Longest token accepted (characters): a URL stays well under httpd's
 * 8190-byte request line. */
#define TODO_TOKEN_MAX 4096

typedef struct {
    const unsigned char *data;
    apr_size_t len;
} todo_token_key_t;

/* Seal len bytes of payload: the token text, NUL-terminated, in p. */
const char *todo_token_seal(apr_pool_t *p, const todo_token_key_t *key,
                            const char *purpose, const char *user,
                            const unsigned char *payload, apr_size_t len);

/* Open a token sealed for this purpose and user: 0 with the payload in
 * *payload (in p), or -1 when the text is not base64url, too short or too
 * long, or its tag does not match (altered, another key, purpose or
 * user).  The tag is compared in constant time. */
int todo_token_open(apr_pool_t *p, const todo_token_key_t *key,
                    const char *purpose, const char *user, const char *token,
                    const unsigned char **payload, apr_size_t *len);

/* A growing payload. */
typedef struct {
    apr_pool_t *pool;
    unsigned char *data;
    apr_size_t len, cap;
} todo_token_w_t;

void todo_token_w_init(todo_token_w_t *w, apr_pool_t *p);
void todo_token_put_u8(todo_token_w_t *w, unsigned v);
void todo_token_put_varint(todo_token_w_t *w, apr_uint64_t v);
void todo_token_put_bytes(todo_token_w_t *w, const void *d, apr_size_t n);
/* A varint length, then the bytes. */
void todo_token_put_str(todo_token_w_t *w, const char *s, apr_size_t n);

/* A UUID in 8-4-4-4-12 hex form (either case) as its 16 bytes; -1 (and
 * nothing written) when text is not one. */
int todo_token_put_uuid(todo_token_w_t *w, const char *text);

/* Reading a payload: each getter returns 0, or -1 (and leaves the reader
 * failed) when the payload ends too soon or a value is out of range. */
typedef struct {
    const unsigned char *data;
    apr_size_t len, pos;
    int failed;
} todo_token_r_t;

void todo_token_r_init(todo_token_r_t *r, const unsigned char *d,
                       apr_size_t n);
int todo_token_get_u8(todo_token_r_t *r, unsigned *v);
/* At most 10 bytes; the value must fit 64 bits and be the shortest
 * encoding (one spelling per value: a token cannot be re-encoded into
 * another that verifies). */
int todo_token_get_varint(todo_token_r_t *r, apr_uint64_t *v);
int todo_token_get_bytes(todo_token_r_t *r, void *d, apr_size_t n);
/* A string of at most max bytes, NUL-terminated, in p. */
int todo_token_get_str(todo_token_r_t *r, apr_pool_t *p, apr_size_t max,
                       const char **s, apr_size_t *n);
/* 16 bytes as a UUID's canonical text (lower case), in p. */
int todo_token_get_uuid(todo_token_r_t *r, apr_pool_t *p, const char **text);
/* 1 when every byte was read and nothing failed. */
int todo_token_r_done(const todo_token_r_t *r);

#endif
