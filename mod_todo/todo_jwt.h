/* todo_jwt: JSON Web Token verification, free of httpd.
 *
 * A token is checked against a policy (allowed algorithms, issuer,
 * audience, leeway, user claim) and one or more key sets (todo_keys).
 *
 * Signatures are checked with OpenSSL 3 directly (EVP), because libjwt 1.10
 * matches "alg" case-insensitively, skips the check on an empty key, parses
 * PEM on every call, puts the token on the stack with alloca and has no
 * EdDSA.
 */
#ifndef TODO_JWT_H
#define TODO_JWT_H

#include <apr_pools.h>
#include <apr_time.h>

#include "todo_keys.h"
#include "todo_metrics.h"

/* Upper bound on the length of a compact token; longer ones are rejected
 * before anything is decoded. */
#define TODO_JWT_MAX_TOKEN 8192
/* Upper bound on the user claim value, in bytes. */
#define TODO_JWT_MAX_USER 255
typedef struct {
    unsigned algs;          /* TODO_ALG_BIT() mask of allowed algorithms */
    const char *issuer;     /* NULL: "iss" is not checked */
    const char *audience;   /* NULL: "aud" is not checked */
    apr_int64_t leeway;     /* seconds, for exp/nbf/iat */
    const char *user_claim; /* e.g. "sub" */
} todo_jwt_policy_t;

typedef enum {
    TODO_JWT_OK = 0,
    TODO_JWT_INVALID,    /* reject; *reason says why */
    TODO_JWT_UNKNOWN_KID /* no key carries the token's kid: a caller
                                  with a JWKS URL may refetch and retry */
} todo_jwt_status_e;

typedef struct {
    const char *user; /* the user claim, allocated in the pool */
    apr_int64_t exp;  /* seconds since the epoch */
    todo_alg_e alg;
    const char *kid; /* NULL when the header has none */
} todo_jwt_result_t;

/* Verify a compact JWS.  keysets is an array of nsets sets searched in
 * order (NULL entries are skipped).  now is the current time in seconds.
 * On TODO_JWT_OK *out is filled; otherwise *reason (never NULL) is a short
 * human-readable reason fit for an error_description and a log line; it
 * never contains the token or key material, and out->alg (when out is not
 * NULL) is the algorithm the header named if the header passed its checks,
 * TODO_ALG_COUNT if not; the other fields of *out are then zero. */
todo_jwt_status_e todo_jwt_verify(apr_pool_t *p, const char *token,
                                  apr_size_t len,
                                  const todo_jwt_policy_t *policy,
                                  const todo_keys_t *const *keysets, int nsets,
                                  apr_int64_t now, todo_jwt_result_t *out,
                                  const char **reason);

/* Whether a failure with this reason (from todo_jwt_verify) could be for
 * want of a key: no key for the algorithm or the kid, or a signature none
 * of the given keys verifies.  With keys the caller could not load (a JWKS
 * URL that never answered) such a token might still be good, if its
 * algorithm is one such keys serve; any other failure (malformed, not
 * allowed, expired...) is final. */
int todo_jwt_reason_needs_keys(const char *reason);

/* The class of a failure's reason (from todo_jwt_verify), for the
 * metrics' todo_auth_failures_total{reason}: never the free text. */
todo_auth_failure_e todo_jwt_reason_class(const char *reason);

#endif
