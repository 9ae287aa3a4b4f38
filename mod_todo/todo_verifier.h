/* todo_verifier: everything that decides whether a bearer token is good,
 * for one todo location -- its policy, its static keys (todo_keys), its
 * JWKS URL (todo_jwksurl) and its cache of verified tokens
 * (todo_tokcache) -- behind one call.  Free of httpd: the auth glue only
 * hands it the token and turns the outcome into r->user or a 401/503. */
#ifndef TODO_VERIFIER_H
#define TODO_VERIFIER_H

#include <apr_pools.h>
#include <apr_time.h>

#include "todo_jwt.h"

/* What a location configured; every field already has its value (the
 * configuration applied its defaults). */
typedef struct {
    unsigned algs;           /* TODO_ALG_BIT mask */
    const todo_keys_t *keys; /* static keys; NULL: none */
    const char *jwks_url;    /* NULL: none */
    apr_interval_time_t jwks_refresh;
    const char *issuer;   /* NULL: not checked */
    const char *audience; /* NULL: not checked */
    int leeway;           /* seconds */
    const char *user_claim;
} todo_verifier_conf_t;

typedef struct todo_verifier todo_verifier_t;

/* Check that the configuration can be safe (every allowed algorithm has a
 * key that can verify it) and build its verifier in p (a long-lived pool:
 * pconf).  Returns NULL, or a one-line reason that starts with the name of
 * the directive to fix. */
const char *todo_verifier_make(apr_pool_t *p, const todo_verifier_conf_t *c,
                               todo_verifier_t **out);

typedef enum {
    TODO_VERIFY_OK = 0,
    TODO_VERIFY_INVALID,    /* the client's fault: 401 */
    TODO_VERIFY_UNAVAILABLE /* ours: the JWKS never loaded, and the
                                    * token may need one of its keys: 503 */
} todo_verify_e;

typedef struct {
    const char *user;   /* on TODO_VERIFY_OK, in the pool */
    int cached;         /* 1: answered from the token cache */
    const char *reason; /* why not: fit for a 401 and a log line,
                                    * never the token or key material */
    todo_alg_e alg;     /* when the signature was checked */
    const char *kid;    /* NULL when the header had none */
} todo_verify_result_t;

/* Verify token (len bytes) at time now (seconds).  A token naming a kid
 * no key has makes the JWKS URL be fetched again (rate-limited) once:
 * that is how a key rotation reaches us. */
todo_verify_e todo_verifier_check(todo_verifier_t *v, apr_pool_t *p,
                                  const char *token, apr_size_t len,
                                  apr_int64_t now, todo_verify_result_t *out);

#endif
