/* Bearer-token authentication: the glue between httpd and todo_verifier. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "mod_todo_auth.h"
#include "todo_metrics.h"

#define EMPTY_TOKEN "empty token"

/* The token of "Authorization: Bearer <token>".  The scheme's name is
 * case-insensitive (RFC 7235 section 2.1): real clients send "bearer".
 * Returns NULL when no bearer credential was sent at all; "" when the
 * credential is empty. */
static const char *bearer_token(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    const char *t;
    apr_size_t n;

    if (!h || strncasecmp(h, "Bearer", 6) || (h[6] && h[6] != ' ')) {
        return NULL;
    }
    for (t = h + 6; *t == ' '; t++) {
        continue;
    }
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

    todo_metrics_auth_failure(token_sent && strcmp(reason, EMPTY_TOKEN)
                                  ? todo_jwt_reason_class(reason)
                                  : TODO_AUTHF_MISSING);

    if (token_sent) {
        challenge = apr_psprintf(r->pool,
                                 "Bearer realm=\"todo\", "
                                 "error=\"invalid_token\", "
                                 "error_description=\"%s\"",
                                 reason);
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", challenge);
    todo_rlog(r, APLOG_INFO, 0, 0101, "401 for %s %s: %s", r->method, r->uri,
              reason);
    return todo_req_refuse(
        r, q, HTTP_UNAUTHORIZED, "UNAUTHORIZED",
        token_sent ? apr_pstrcat(r->pool, "invalid token: ", reason, NULL)
                   : "authentication required");
}

/* The JWKS URL never answered: the token may well be good, so this is
 * the server's failure (503), not the client's (401). */
static int keys_unavailable(request_rec *r, todo_req_t *q, const char *why)
{
    todo_metrics_auth_failure(TODO_AUTHF_KEYS_UNAVAILABLE);
    todo_rlog(r, APLOG_WARNING, 0, 0102, "JWKS unavailable: %s", why);
    apr_table_setn(r->err_headers_out, "Retry-After", "5");
    return todo_req_refuse(r, q, HTTP_SERVICE_UNAVAILABLE,
                           "SERVICE_UNAVAILABLE",
                           "signing keys are unavailable, try again later");
}

static int authenticate(request_rec *r, todo_req_t *q)
{
    const char *token = bearer_token(r);
    todo_verify_result_t res;

    if (!token) {
        /* RFC 6750 section 3.1: no error code for a request without
         * credentials or with another scheme; the log still says which. */
        return unauthorized(r, q,
                            apr_table_get(r->headers_in, "Authorization")
                                ? "authorization scheme is not Bearer"
                                : "no bearer token",
                            0);
    }
    if (!*token) {
        return unauthorized(r, q, EMPTY_TOKEN, 1);
    }
    switch (todo_verifier_check(q->site->verifier, r->pool, token,
                                strlen(token), apr_time_sec(apr_time_now()),
                                &res)) {
    case TODO_VERIFY_OK:
        break;
    case TODO_VERIFY_UNAVAILABLE:
        return keys_unavailable(r, q, res.reason);
    default:
        return unauthorized(r, q, res.reason, 1);
    }
    if (res.cached) {
        todo_rlog(r, APLOG_DEBUG, 0, 0104,
                  "token accepted from the cache "
                  "for user %s",
                  res.user);
    }
    else {
        todo_rlog(r, APLOG_DEBUG, 0, 0103,
                  "token verified (%s%s%s) for "
                  "user %s",
                  todo_keys_alg_name(res.alg), res.kid ? ", kid " : "",
                  res.kid ? res.kid : "", res.user);
    }
    r->user = (char *)res.user;
    r->ap_auth_type = "Bearer";
    return OK;
}

int todo_auth_check_access(request_rec *r)
{
    todo_req_t *q = todo_req_get(r);

    if (!q || !ap_is_initial_req(r) || !q->route.needs_user) {
        return DECLINED;
    }
    return authenticate(r, q);
}
