/* todo_verifier: one todo location's token verification (see the header). */
#include "todo_verifier.h"

#include <string.h>

#include <apr_strings.h>

#include "todo_jwksurl.h"
#include "todo_metrics.h"
#include "todo_tokcache.h"

/* Verified tokens remembered per location and process. */
#define TOKEN_CACHE_ENTRIES 1024
/* Bound on one fetch of the JWKS URL. */
#define JWKS_TIMEOUT apr_time_from_sec(5)

struct todo_verifier {
    todo_jwt_policy_t policy;
    const todo_keys_t *keys; /* static keys, may be NULL */
    todo_jwksurl_t *remote;  /* JWKS URL, may be NULL */
    todo_tokcache_t *cache;
};

static int asymmetric(int alg)
{
    return alg >= TODO_ALG_RS256;
}

/* Every allowed algorithm must have a key that can verify it: an allowed
 * algorithm without a key is a configuration mistake, not a feature. */
static const char *check_keys(apr_pool_t *p, const todo_verifier_conf_t *c)
{
    int alg;

    if (!c->keys && !c->jwks_url) {
        return "TodoJWTAlgorithms: no key material is configured (use "
               "TodoJWTSecret, TodoJWTSecretFile, TodoJWTPublicKeyFile, "
               "TodoJWKSFile or TodoJWKSURL)";
    }
    for (alg = 0; alg < TODO_ALG_COUNT; alg++) {
        if (!(c->algs & TODO_ALG_BIT(alg))) {
            continue;
        }
        if (c->keys && todo_keys_supports(c->keys, alg)) {
            continue;
        }
        if (c->jwks_url && asymmetric(alg)) {
            continue; /* keys arrive with the JWKS */
        }
        return apr_psprintf(p,
                            "TodoJWTAlgorithms: %s is allowed but no "
                            "%s key is configured%s",
                            todo_keys_alg_name(alg), todo_keys_alg_name(alg),
                            asymmetric(alg)
                                ? " (TodoJWTPublicKeyFile, "
                                  "TodoJWKSFile or TodoJWKSURL)"
                                : " (TodoJWTSecret or TodoJWTSecretFile)");
    }
    return NULL;
}

const char *todo_verifier_make(apr_pool_t *p, const todo_verifier_conf_t *c,
                               todo_verifier_t **out)
{
    const char *err = check_keys(p, c);
    todo_verifier_t *v;

    if (err) {
        return err;
    }
    v = apr_pcalloc(p, sizeof(*v));
    v->policy.algs = c->algs;
    v->policy.issuer = c->issuer;
    v->policy.audience = c->audience;
    v->policy.leeway = c->leeway;
    v->policy.user_claim = c->user_claim;
    v->keys = c->keys;
    if (c->jwks_url) {
        v->remote =
            todo_jwksurl_make(p, c->jwks_url, c->jwks_refresh, JWKS_TIMEOUT);
        if (!v->remote) {
            return "TodoJWKSURL: cannot set up the JWKS cache";
        }
    }
    v->cache = todo_tokcache_make(p, TOKEN_CACHE_ENTRIES);
    *out = v;
    return NULL;
}

/* Verify against the static keys and, if configured, the JWKS URL's set;
 * a token naming an unknown kid makes us refetch the JWKS (rate-limited)
 * and try once more. */
static todo_verify_e verify(todo_verifier_t *v, apr_pool_t *p,
                            const char *token, apr_size_t len, apr_int64_t now,
                            todo_jwt_result_t *res, const char **reason)
{
    const todo_keys_t *sets[2] = { v->keys, NULL };
    todo_jwt_status_e st;
    const char *err = NULL;

    if (v->remote) {
        sets[1] = todo_jwksurl_acquire(v->remote, 0, &err);
    }
    st = todo_jwt_verify(p, token, len, &v->policy, sets, 2, now, res, reason);
    if (v->remote && st == TODO_JWT_UNKNOWN_KID) {
        todo_jwksurl_release(v->remote, sets[1]);
        sets[1] = todo_jwksurl_acquire(v->remote, 1, &err);
        st = todo_jwt_verify(p, token, len, &v->policy, sets, 2, now, res,
                             reason);
    }
    if (sets[1]) {
        todo_jwksurl_release(v->remote, sets[1]);
    }
    else if (v->remote && st != TODO_JWT_OK && res->alg < TODO_ALG_COUNT
             && asymmetric(res->alg) && todo_jwt_reason_needs_keys(*reason)) {
        /* The JWKS never loaded and the token failed for want of a key it
         * may hold: we cannot tell a good token from a bad one, and that
         * is our failure, not the client's.  A token that is malformed,
         * of an algorithm not allowed, an HMAC one (a JWKS holds no
         * secrets), or expired after a static key verified it, is refused
         * whatever the JWKS holds: 401 as usual. */
        *reason = err ? err : "the JWKS is not loaded";
        return TODO_VERIFY_UNAVAILABLE;
    }
    return st == TODO_JWT_OK ? TODO_VERIFY_OK : TODO_VERIFY_INVALID;
}

todo_verify_e todo_verifier_check(todo_verifier_t *v, apr_pool_t *p,
                                  const char *token, apr_size_t len,
                                  apr_int64_t now, todo_verify_result_t *out)
{
    apr_int64_t leeway = v->policy.leeway;
    todo_jwt_result_t res;
    todo_verify_e st;

    memset(out, 0, sizeof(*out));
    out->alg = TODO_ALG_COUNT;
    if (len > TODO_JWT_MAX_TOKEN) {
        out->reason = "token too long";
        return TODO_VERIFY_INVALID;
    }
    if (todo_tokcache_get(v->cache, token, len, now, p, &out->user)) {
        out->cached = 1;
        todo_metrics_token_cache(1);
        return TODO_VERIFY_OK;
    }
    todo_metrics_token_cache(0);
    st = verify(v, p, token, len, now, &res, &out->reason);
    out->alg = res.alg;
    out->kid = res.kid;
    if (st != TODO_VERIFY_OK) {
        return st;
    }
    out->user = res.user;
    /* exp may be as large as int64 allows: clamp, do not overflow. */
    todo_tokcache_put(v->cache, token, len, res.user,
                      res.exp > APR_INT64_MAX - leeway ? APR_INT64_MAX
                                                       : res.exp + leeway);
    return TODO_VERIFY_OK;
}
