/* todo_jwt: JSON Web Token verification with OpenSSL 3 (EVP) and jansson:
 * the token's form, its header, the signature over it with the configured
 * keys (todo_keys), then its claims against the policy.  It only reads key
 * sets, so it may run concurrently in many threads. */
#include "todo_jwt.h"

#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "todo_b64.h"

/* SHA-2 variant of an HS/RS/ES algorithm; NULL for EdDSA, whose digest is
 * part of the signature scheme. */
static const char *md_name(todo_alg_e alg)
{
    static const char *const md[3] = { "SHA256", "SHA384", "SHA512" };

    if (alg == TODO_ALG_EDDSA) {
        return NULL;
    }
    return md[alg % 3];
}
/* -------------------------------------------------------- signatures */

static int digest_verify(EVP_PKEY *pkey, const char *md,
                         const unsigned char *sig, size_t slen,
                         const unsigned char *data, size_t dlen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok =
        ctx != NULL
        && EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, pkey, NULL) == 1
        && EVP_DigestVerify(ctx, sig, slen, data, dlen) == 1;

    EVP_MD_CTX_free(ctx);
    return ok;
}

static int hmac_verify(const todo_key_t *k, const char *md,
                       const unsigned char *sig, size_t slen,
                       const unsigned char *data, size_t dlen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    int ok;

    if (!EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, k->secret, k->secret_len,
                   data, dlen, mac, sizeof(mac), &maclen)) {
        return 0;
    }
    /* Constant time, and a truncated MAC is not a MAC. */
    ok = slen == maclen && CRYPTO_memcmp(mac, sig, maclen) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

/* JWS carries ECDSA signatures as raw R || S (RFC 7518 section 3.4);
 * OpenSSL wants DER, so re-encode. */
static int ecdsa_verify(const todo_key_t *k, todo_alg_e alg,
                        const unsigned char *sig, size_t slen,
                        const unsigned char *data, size_t dlen)
{
    size_t half = alg == TODO_ALG_ES256 ? 32 : alg == TODO_ALG_ES384 ? 48 : 66;
    BIGNUM *r, *s;
    ECDSA_SIG *es;
    unsigned char *der = NULL;
    int derlen, ok = 0;

    if (slen != 2 * half) {
        return 0;
    }
    r = BN_bin2bn(sig, (int)half, NULL);
    s = BN_bin2bn(sig + half, (int)half, NULL);
    es = ECDSA_SIG_new();
    if (r == NULL || s == NULL || es == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return 0;
    }
    derlen = i2d_ECDSA_SIG(es, &der);
    if (derlen > 0) {
        ok = digest_verify(k->pkey, md_name(alg), der, (size_t)derlen, data,
                           dlen);
    }
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return ok;
}

static int sig_verify(const todo_key_t *k, todo_alg_e alg,
                      const todo_bytes_t *sig, const char *data,
                      apr_size_t dlen)
{
    const unsigned char *d = (const unsigned char *)data;

    switch (alg) {
    case TODO_ALG_HS256:
    case TODO_ALG_HS384:
    case TODO_ALG_HS512:
        return k->secret != NULL
               && hmac_verify(k, md_name(alg), sig->data, sig->len, d, dlen);
    case TODO_ALG_RS256:
    case TODO_ALG_RS384:
    case TODO_ALG_RS512:
        return k->pkey != NULL
               && sig->len == (apr_size_t)EVP_PKEY_get_size(k->pkey)
               && digest_verify(k->pkey, md_name(alg), sig->data, sig->len, d,
                                dlen);
    case TODO_ALG_ES256:
    case TODO_ALG_ES384:
    case TODO_ALG_ES512:
        return k->pkey != NULL
               && ecdsa_verify(k, alg, sig->data, sig->len, d, dlen);
    case TODO_ALG_EDDSA:
        return k->pkey != NULL && sig->len == 64
               && digest_verify(k->pkey, NULL, sig->data, sig->len, d, dlen);
    default:
        return 0;
    }
}

/* The failures that more keys could have turned into a success. */
static const char reason_unknown_kid[] = "unknown key id";
static const char reason_no_key[] = "no key for algorithm";
static const char reason_bad_sig[] = "bad signature";

/* Try every key bound to alg whose kid is compatible, in order. */
static todo_jwt_status_e check_signature(const todo_keys_t *const *keysets,
                                         int nsets, todo_alg_e alg,
                                         const char *kid,
                                         const todo_bytes_t *sig,
                                         const char *data, apr_size_t dlen,
                                         const char **reason)
{
    int s, i, candidates = 0, ok = 0;

    ERR_set_mark();
    for (s = 0; s < nsets && !ok; s++) {
        const todo_keys_t *ks = keysets ? keysets[s] : NULL;

        for (i = 0; ks && i < todo_keys_count(ks) && !ok; i++) {
            const todo_key_t *k = todo_keys_at(ks, i);

            if (!(k->algs & TODO_ALG_BIT(alg))) {
                continue;
            }
            if (k->kid && kid && strcmp(k->kid, kid) != 0) {
                continue;
            }
            candidates++;
            ok = sig_verify(k, alg, sig, data, dlen);
        }
    }
    /* Failed checks leave errors in the thread's OpenSSL queue, where they
     * would confuse the next user of it (mod_ssl, for one). */
    ERR_pop_to_mark();
    if (ok) {
        return TODO_JWT_OK;
    }
    if (candidates == 0) {
        *reason = kid ? reason_unknown_kid : reason_no_key;
        return kid ? TODO_JWT_UNKNOWN_KID : TODO_JWT_INVALID;
    }
    *reason = reason_bad_sig;
    return TODO_JWT_INVALID;
}

/* Every reason todo_jwt_verify gives (and the verifier's own "token too
 * long"), by class; the fuzzer checks that every reason it meets is
 * here. */
static const struct {
    const char *reason;
    todo_auth_failure_e cls;
} reason_classes[] = {
    { "malformed token", TODO_AUTHF_MALFORMED },
    { "token too long", TODO_AUTHF_MALFORMED },
    { "missing alg", TODO_AUTHF_MALFORMED },
    { "unsupported critical header", TODO_AUTHF_MALFORMED },
    { "invalid key id", TODO_AUTHF_MALFORMED },
    { "not an access token (typ)", TODO_AUTHF_MALFORMED },
    { "unsupported algorithm", TODO_AUTHF_ALGORITHM },
    { "algorithm not allowed", TODO_AUTHF_ALGORITHM },
    { reason_unknown_kid, TODO_AUTHF_SIGNATURE },
    { reason_no_key, TODO_AUTHF_SIGNATURE },
    { reason_bad_sig, TODO_AUTHF_SIGNATURE },
    { "token expired", TODO_AUTHF_EXPIRED },
    { "token not yet valid", TODO_AUTHF_EXPIRED },
    { "token issued in the future", TODO_AUTHF_EXPIRED },
    { "missing exp", TODO_AUTHF_CLAIMS },
    { "exp is not an integer", TODO_AUTHF_CLAIMS },
    { "nbf is not an integer", TODO_AUTHF_CLAIMS },
    { "iat is not an integer", TODO_AUTHF_CLAIMS },
    { "missing user claim", TODO_AUTHF_CLAIMS },
    { "invalid user claim", TODO_AUTHF_CLAIMS },
    { "issuer mismatch", TODO_AUTHF_CLAIMS },
    { "audience mismatch", TODO_AUTHF_CLAIMS },
};

todo_auth_failure_e todo_jwt_reason_class(const char *reason)
{
    apr_size_t i;

    for (i = 0;
         reason && i < sizeof(reason_classes) / sizeof(reason_classes[0]);
         i++) {
        if (!strcmp(reason, reason_classes[i].reason)) {
            return reason_classes[i].cls;
        }
    }
    return TODO_AUTHF_OTHER;
}

int todo_jwt_reason_needs_keys(const char *reason)
{
    return reason != NULL
           && (strcmp(reason, reason_unknown_kid) == 0
               || strcmp(reason, reason_no_key) == 0
               || strcmp(reason, reason_bad_sig) == 0);
}
/* ------------------------------------------------------------ parsing */

typedef struct {
    const char *signed_part; /* "<header>.<payload>" */
    apr_size_t signed_len;
    todo_bytes_t header, payload, sig;
} parts_t;

/* Three non-empty strict base64url segments; 0 on success. */
static int split(apr_pool_t *p, const char *token, apr_size_t len,
                 parts_t *parts)
{
    apr_size_t dot[2], i;
    int ndots = 0;

    for (i = 0; i < len; i++) {
        if (token[i] != '.') {
            continue;
        }
        if (ndots == 2) {
            return -1;
        }
        dot[ndots++] = i;
    }
    if (ndots != 2 || dot[0] == 0 || dot[1] == dot[0] + 1
        || dot[1] + 1 == len) {
        return -1;
    }
    parts->signed_part = token;
    parts->signed_len = dot[1];
    if (todo_b64_decode(p, token, dot[0], &parts->header)
        || todo_b64_decode(p, token + dot[0] + 1, dot[1] - dot[0] - 1,
                           &parts->payload)
        || todo_b64_decode(p, token + dot[1] + 1, len - dot[1] - 1,
                           &parts->sig)) {
        return -1;
    }
    return 0;
}

static json_t *parse_object(const todo_bytes_t *b)
{
    json_t *j = json_loadb((const char *)b->data, b->len,
                           JSON_REJECT_DUPLICATES, NULL);

    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The JOSE header: alg (exact name, allowed), no crit, a sane kid.
 * jku, x5u, jwk and x5c are deliberately ignored: keys come only from the
 * configuration, never from the token itself. */
/* "typ", when present, must say this is a JWT or an access token (RFC
 * 7519 5.1, RFC 9068 2.1).  Issuers mark other tokens signed with the
 * same keys by their typ -- Better Auth's session cookie cache is
 * "better-auth.session-cache+jwt" -- and those are not bearer tokens for
 * an API, even when their claims would pass. */
static int typ_ok(json_t *typ)
{
    static const char *const ok[] = { "JWT", "at+jwt", "application/jwt",
                                      "application/at+jwt" };
    size_t i;

    if (typ == NULL) {
        return 1;
    }
    if (!json_is_string(typ)) {
        return 0;
    }
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcasecmp(json_string_value(typ), ok[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *header_check(json_t *h, const todo_jwt_policy_t *policy,
                                todo_alg_e *alg, const char **kid)
{
    json_t *a = json_object_get(h, "alg"), *k = json_object_get(h, "kid");
    int n;

    if (a == NULL) {
        return "missing alg";
    }
    n = json_is_string(a) ? todo_keys_alg_from_name(json_string_value(a)) : -1;
    if (n < 0) {
        return "unsupported algorithm";
    }
    if (!(policy->algs & TODO_ALG_BIT(n))) {
        return "algorithm not allowed";
    }
    /* We understand no extension, so any critical one must fail
     * (RFC 7515 section 4.1.11). */
    if (json_object_get(h, "crit")) {
        return "unsupported critical header";
    }
    if (k
        && !(json_is_string(k)
             && todo_keys_kid_valid(json_string_value(k),
                                    json_string_length(k)))) {
        return "invalid key id";
    }
    if (!typ_ok(json_object_get(h, "typ"))) {
        return "not an access token (typ)";
    }
    *alg = (todo_alg_e)n;
    *kid = k ? json_string_value(k) : NULL;
    return NULL;
}

/* ------------------------------------------------------------- claims */

/* now >= t + l, computed without overflow (l >= 0). */
static int reached(apr_int64_t now, apr_int64_t t, apr_int64_t l)
{
    if (t > APR_INT64_MAX - l) {
        return 0;
    }
    return now >= t + l;
}

/* t > now + l, computed without overflow (l >= 0). */
static int beyond(apr_int64_t t, apr_int64_t now, apr_int64_t l)
{
    if (now > APR_INT64_MAX - l) {
        return 0;
    }
    return t > now + l;
}

static int string_is(json_t *v, const char *want)
{
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

static int audience_ok(json_t *aud, const char *want)
{
    json_t *v;
    size_t i;

    if (json_is_string(aud)) {
        return string_is(aud, want);
    }
    if (!json_is_array(aud)) {
        return 0;
    }
    json_array_foreach(aud, i, v) if (string_is(v, want))
    {
        return 1;
    }
    return 0;
}

static const char *time_check(json_t *c, apr_int64_t now, apr_int64_t l,
                              apr_int64_t *exp)
{
    json_t *e = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf");
    json_t *iat = json_object_get(c, "iat");

    if (e == NULL) {
        return "missing exp";
    }
    if (!json_is_integer(e)) {
        return "exp is not an integer";
    }
    *exp = (apr_int64_t)json_integer_value(e);
    if (reached(now, *exp, l)) {
        return "token expired";
    }
    if (nbf && !json_is_integer(nbf)) {
        return "nbf is not an integer";
    }
    if (nbf && beyond((apr_int64_t)json_integer_value(nbf), now, l)) {
        return "token not yet valid";
    }
    if (iat && !json_is_integer(iat)) {
        return "iat is not an integer";
    }
    if (iat && beyond((apr_int64_t)json_integer_value(iat), now, l)) {
        return "token issued in the future";
    }
    return NULL;
}

/* The user name ends up in r->user, the access log and SQL parameters:
 * keep it printable and bounded. */
static const char *user_check(json_t *u)
{
    const unsigned char *s;
    size_t n, i;

    if (u == NULL) {
        return "missing user claim";
    }
    if (!json_is_string(u)) {
        return "invalid user claim";
    }
    s = (const unsigned char *)json_string_value(u);
    n = json_string_length(u);
    if (n == 0 || n > TODO_JWT_MAX_USER) {
        return "invalid user claim";
    }
    for (i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return "invalid user claim";
        }
    }
    return NULL;
}

static const char *claims_check(apr_pool_t *p, json_t *c,
                                const todo_jwt_policy_t *policy,
                                apr_int64_t now, todo_jwt_result_t *out)
{
    apr_int64_t l = policy->leeway > 0 ? policy->leeway : 0;
    const char *claim = policy->user_claim ? policy->user_claim : "sub";
    const char *reason;
    json_t *u;

    if ((reason = time_check(c, now, l, &out->exp)) != NULL) {
        return reason;
    }
    if (policy->issuer
        && !string_is(json_object_get(c, "iss"), policy->issuer)) {
        return "issuer mismatch";
    }
    if (policy->audience
        && !audience_ok(json_object_get(c, "aud"), policy->audience)) {
        return "audience mismatch";
    }
    u = json_object_get(c, claim);
    if ((reason = user_check(u)) != NULL) {
        return reason;
    }
    out->user = apr_pstrmemdup(p, json_string_value(u), json_string_length(u));
    return NULL;
}

/* -------------------------------------------------------------- verify */

static todo_jwt_status_e fail(const char **reason, const char *why)
{
    *reason = why;
    return TODO_JWT_INVALID;
}

todo_jwt_status_e todo_jwt_verify(apr_pool_t *p, const char *token,
                                  apr_size_t len,
                                  const todo_jwt_policy_t *policy,
                                  const todo_keys_t *const *keysets, int nsets,
                                  apr_int64_t now, todo_jwt_result_t *out,
                                  const char **reason)
{
    parts_t parts;
    todo_jwt_result_t res;
    todo_jwt_status_e st;
    const char *why, *kid = NULL, *dummy;
    json_t *json;

    if (reason == NULL) {
        reason = &dummy;
    }
    *reason = NULL;
    memset(&res, 0, sizeof(res));
    if (out) {
        memset(out, 0, sizeof(*out));
        out->alg = TODO_ALG_COUNT; /* until the header is checked */
    }
    if (len > TODO_JWT_MAX_TOKEN) {
        return fail(reason, "token too long");
    }
    if (token == NULL || len == 0 || split(p, token, len, &parts)) {
        return fail(reason, "malformed token");
    }
    if (policy == NULL) {
        return fail(reason, "algorithm not allowed");
    }

    if ((json = parse_object(&parts.header)) == NULL) {
        return fail(reason, "malformed token");
    }
    why = header_check(json, policy, &res.alg, &kid);
    if (why == NULL && kid) {
        res.kid = kid = apr_pstrdup(p, kid);
    }
    json_decref(json);
    if (why) {
        return fail(reason, why);
    }
    if (out) {
        out->alg = res.alg;
    }

    /* The signature is checked before the claims are even parsed: an
     * unauthenticated payload gets no further than the base64 decoder. */
    st = check_signature(keysets, nsets, res.alg, kid, &parts.sig,
                         parts.signed_part, parts.signed_len, reason);
    if (st != TODO_JWT_OK) {
        return st;
    }

    if ((json = parse_object(&parts.payload)) == NULL) {
        return fail(reason, "malformed token");
    }
    why = claims_check(p, json, policy, now, &res);
    json_decref(json);
    if (why) {
        return fail(reason, why);
    }
    if (out) {
        *out = res;
    }
    return TODO_JWT_OK;
}