/* Bearer-token authentication: the glue between httpd and todo_jwt. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "mod_todo_auth.h"
#include "todo_jwks.h"
#include "todo_tokcache.h"

/* Verified tokens remembered per location and process. */
#define TOKEN_CACHE_ENTRIES 1024
/* Bound on one fetch of the JWKS URL. */
#define JWKS_TIMEOUT apr_time_from_sec(5)

struct todo_auth {
    todo_jwt_policy_t policy;
    const todo_jwt_keyset_t *keys;     /* static keys, may be NULL */
    todo_jwks_remote_t *remote;        /* JWKS URL, may be NULL */
    todo_tokcache_t *cache;
};

static int asymmetric(int alg)
{
    return alg >= TODO_ALG_RS256;
}

/* Every allowed algorithm must have a key that can verify it: an allowed
 * algorithm without a key is a configuration mistake, not a feature. */
static const char *check_keys(apr_pool_t *p, const todo_dir_cfg *c,
                              unsigned algs)
{
    int alg;

    if (!c->keys && !c->jwks_url) {
        return "TodoJWTAlgorithms: no key material is configured (use "
               "TodoJWTSecret, TodoJWTSecretFile, TodoJWTPublicKeyFile, "
               "TodoJWKSFile or TodoJWKSURL)";
    }
    for (alg = 0; alg < TODO_ALG_COUNT; alg++) {
        if (!(algs & TODO_ALG_BIT(alg))) {
            continue;
        }
        if (c->keys && todo_jwt_keyset_supports(c->keys, alg)) {
            continue;
        }
        if (c->jwks_url && asymmetric(alg)) {
            continue;              /* keys arrive with the JWKS */
        }
        return apr_psprintf(p, "TodoJWTAlgorithms: %s is allowed but no "
                            "%s key is configured%s",
                            todo_jwt_alg_name(alg), todo_jwt_alg_name(alg),
                            asymmetric(alg) ? " (TodoJWTPublicKeyFile, "
                            "TodoJWKSFile or TodoJWKSURL)"
                            : " (TodoJWTSecret or TodoJWTSecretFile)");
    }
    return NULL;
}

const char *todo_auth_build(apr_pool_t *p, const todo_dir_cfg *c,
                            todo_auth_t **out)
{
    unsigned algs = c->algs ? c->algs : TODO_DEFAULT_ALGS;
    todo_auth_t *a;
    const char *err = check_keys(p, c, algs);
    int refresh;

    if (err) {
        return err;
    }
    a = apr_pcalloc(p, sizeof(*a));
    a->policy.algs = algs;
    a->policy.issuer = c->issuer;
    a->policy.audience = c->audience;
    a->policy.leeway = c->leeway != TODO_UNSET ? c->leeway
                                               : TODO_DEFAULT_LEEWAY;
    a->policy.user_claim = c->user_claim ? c->user_claim
                                         : TODO_DEFAULT_USER_CLAIM;
    a->keys = c->keys;
    if (c->jwks_url) {
        refresh = c->jwks_refresh != TODO_UNSET ? c->jwks_refresh
                                                : TODO_DEFAULT_REFRESH;
        a->remote = todo_jwks_remote_make(p, c->jwks_url,
                                          apr_time_from_sec(refresh),
                                          JWKS_TIMEOUT);
        if (!a->remote) {
            return "TodoJWKSURL: cannot set up the JWKS cache";
        }
    }
    a->cache = todo_tokcache_make(p, TOKEN_CACHE_ENTRIES);
    *out = a;
    return NULL;
}

/* ------------------------------------------------------- per request */

/* Requests that need no token: the public routes, CORS preflights, and
 * what the handler will refuse anyway (unknown paths, wrong methods). */
static int is_public(const todo_req_t *q)
{
    unsigned reads = TODO_M_GET | TODO_M_HEAD;

    if (q->method == TODO_M_OPTIONS || q->route.route == TODO_ROUTE_NONE) {
        return 1;
    }
    if (!(todo_route_allowed(q->route.route) & q->method)) {
        return 1;
    }
    /* Health, the OpenAPI document and the docs page. */
    return !todo_route_needs_user(q->route.route) && (q->method & reads);
}

/* The token of "Authorization: Bearer <token>".  The scheme is matched
 * exactly as RFC 6750 writes it.  Returns NULL when no bearer credential
 * was sent at all; "" when the credential is empty. */
static const char *bearer_token(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    const char *t;
    apr_size_t n;

    if (!h || strncmp(h, "Bearer", 6) || (h[6] && h[6] != ' ')) {
        return NULL;
    }
    for (t = h + 6; *t == ' '; t++)
        ;
    n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) {
        n--;
    }
    return apr_pstrmemdup(r->pool, t, n);
}

static int unauthorized(request_rec *r, todo_req_t *q, const char *reason,
                        int token_sent)
{
    const char *challenge = "Bearer realm=\"todo\"";

    if (token_sent) {
        challenge = apr_psprintf(r->pool, "Bearer realm=\"todo\", "
                                 "error=\"invalid_token\", "
                                 "error_description=\"%s\"", reason);
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", challenge);
    q->err_code = "UNAUTHORIZED";
    q->err_message = token_sent ? apr_pstrcat(r->pool, "invalid token: ",
                                              reason, NULL)
                                : "authentication required";
    todo_rlog(r, APLOG_INFO, 0, 0101, "401 for %s %s: %s", r->method,
              r->uri, reason);
    return HTTP_UNAUTHORIZED;
}

/* The JWKS URL never answered: the token may well be good, so this is
 * the server's failure (503), not the client's (401). */
static int keys_unavailable(request_rec *r, todo_req_t *q)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "5");
    q->err_code = "SERVICE_UNAVAILABLE";
    q->err_message = "signing keys are unavailable, try again later";
    return HTTP_SERVICE_UNAVAILABLE;
}

/* Verify against the static keys and, if configured, the JWKS URL's set;
 * a token naming an unknown kid makes us refetch the JWKS (rate-limited)
 * and try once more -- that is how a key rotation reaches us. */
static todo_jwt_status_e verify(request_rec *r, const todo_auth_t *a,
                                const char *token, todo_jwt_result_t *res,
                                const char **reason, int *unavailable)
{
    const todo_jwt_keyset_t *sets[2] = { a->keys, NULL };
    apr_int64_t now = apr_time_sec(apr_time_now());
    const char *err = NULL;
    todo_jwt_status_e st;

    if (a->remote) {
        sets[1] = todo_jwks_remote_acquire(a->remote, 0, &err);
    }
    st = todo_jwt_verify(r->pool, token, strlen(token), &a->policy, sets, 2,
                         now, res, reason);
    if (a->remote && st == TODO_JWT_UNKNOWN_KID) {
        if (sets[1]) {
            todo_jwks_remote_release(a->remote, sets[1]);
        }
        sets[1] = todo_jwks_remote_acquire(a->remote, 1, &err);
        st = todo_jwt_verify(r->pool, token, strlen(token), &a->policy,
                             sets, 2, now, res, reason);
    }
    if (sets[1]) {
        todo_jwks_remote_release(a->remote, sets[1]);
    }
    else if (a->remote && st != TODO_JWT_OK && res->alg < TODO_ALG_COUNT
             && asymmetric(res->alg) && todo_jwt_reason_needs_keys(*reason)) {
        /* The JWKS never loaded and the token failed for want of a key it
         * may hold: we cannot tell a good token from a bad one, and that
         * is our failure, not the client's.  A token that is malformed,
         * of an algorithm not allowed, an HMAC one (a JWKS holds no
         * secrets), or expired after a static key verified it, is refused
         * whatever the JWKS holds: 401 as usual. */
        todo_rlog(r, APLOG_WARNING, 0, 0102, "JWKS unavailable: %s",
                  err ? err : "unknown error");
        *unavailable = 1;
    }
    return st;
}

static int authenticate(request_rec *r, todo_req_t *q)
{
    const todo_auth_t *a = todo_cfg_auth(q->cfg, r->server);
    const char *token = bearer_token(r);
    const char *user = NULL, *reason = "invalid token";
    todo_jwt_result_t res;
    apr_int64_t now;

    if (!token) {
        /* RFC 6750 section 3.1: no error code for a request without
         * credentials or with another scheme; the log still says which. */
        return unauthorized(r, q, apr_table_get(r->headers_in,
                                                "Authorization")
                                  ? "authorization scheme is not Bearer"
                                  : "no bearer token", 0);
    }
    if (!*token) {
        return unauthorized(r, q, "empty token", 1);
    }
    if (strlen(token) > TODO_JWT_MAX_TOKEN) {
        return unauthorized(r, q, "token too long", 1);
    }
    now = apr_time_sec(apr_time_now());
    if (!todo_tokcache_get(a->cache, token, strlen(token), now, r->pool,
                           &user)) {
        int unavailable = 0;

        if (verify(r, a, token, &res, &reason, &unavailable)
            != TODO_JWT_OK) {
            return unavailable ? keys_unavailable(r, q)
                               : unauthorized(r, q, reason, 1);
        }
        user = res.user;
        /* exp may be as large as int64 allows: clamp, do not overflow. */
        todo_tokcache_put(a->cache, token, strlen(token), user,
                          res.exp > APR_INT64_MAX - a->policy.leeway
                          ? APR_INT64_MAX : res.exp + a->policy.leeway);
        todo_rlog(r, APLOG_DEBUG, 0, 0103, "token verified (%s%s%s) for "
                  "user %s", todo_jwt_alg_name(res.alg),
                  res.kid ? ", kid " : "", res.kid ? res.kid : "", user);
    }
    else {
        todo_rlog(r, APLOG_DEBUG, 0, 0104, "token accepted from the cache "
                  "for user %s", user);
    }
    r->user = (char *)user;
    r->ap_auth_type = "Bearer";
    return OK;
}

int todo_auth_check_access(request_rec *r)
{
    todo_req_t *q = todo_req_get(r);

    if (!q || !ap_is_initial_req(r) || is_public(q)) {
        return DECLINED;
    }
    return authenticate(r, q);
}
