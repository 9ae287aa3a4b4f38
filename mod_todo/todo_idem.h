/* todo_idem: the Idempotency-Key header and the fingerprint of a write
 * (docs/api.md §9).  Free of httpd.
 *
 * The header is a Structured Field Item (RFC 8941) holding a String, as
 * draft-ietf-httpapi-idempotency-key-header says:
 *     Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"
 * A bare key is accepted too (clients often send one):
 *     Idempotency-Key: 8e03978e-40d5-43e8-bc93-6894a57f9324
 * The key is 1-255 visible ASCII characters (%x21-7E); a bare key holds
 * none of '"' '\\' ',' ';' (the field syntax's own).  Parameters after the
 * item (";name=value") are allowed and ignored, as RFC 8941 lets a
 * receiver do.  The quoted and the bare spelling of a key are one key.
 */
#ifndef TODO_IDEM_H
#define TODO_IDEM_H

#include <apr_pools.h>

#define TODO_IDEM_KEY_MAX 255
/* The fingerprint's length in hex digits (SHA-256). */
#define TODO_IDEM_FP_LEN 64

/* Parse the header's value.  0 with the key (NUL-terminated, in p), or -1
 * with *why saying what is wrong (for error.details). */
int todo_idem_parse_key(apr_pool_t *p, const char *value, const char **key,
                        const char **why);

/* The request's fingerprint: SHA-256, in lower-case hex, of the method,
 * the operation's name, the task id ("" for a create) and the body bytes
 * (NULL: no body, the same as an empty one), each length-prefixed so that
 * no two requests share the input.  A repeat with the same key must have
 * the same fingerprint, else it is another request (422). */
const char *todo_idem_fingerprint(apr_pool_t *p, const char *method,
                                  const char *operation, const char *task_id,
                                  const char *body, apr_size_t len);

#endif
