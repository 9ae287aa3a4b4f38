/* todo_keys: the key material tokens are verified with -- HMAC secrets,
 * PEM public keys, JWKs and JWKS documents -- parsed once, when loaded,
 * into EVP_PKEYs (or a copied secret) and bound to the algorithms each may
 * verify.  A key set is never modified once built, so any number of
 * threads may read it at once. */
#include "todo_keys.h"

#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "todo_b64.h"

#define ALGS_HS                                                  \
    (TODO_ALG_BIT(TODO_ALG_HS256) | TODO_ALG_BIT(TODO_ALG_HS384) \
     | TODO_ALG_BIT(TODO_ALG_HS512))
#define ALGS_RS                                                  \
    (TODO_ALG_BIT(TODO_ALG_RS256) | TODO_ALG_BIT(TODO_ALG_RS384) \
     | TODO_ALG_BIT(TODO_ALG_RS512))

static const char *const alg_names[TODO_ALG_COUNT] = {
    "HS256", "HS384", "HS512", "RS256", "RS384",
    "RS512", "ES256", "ES384", "ES512", "EdDSA"
};

struct todo_keys {
    apr_pool_t *pool;
    apr_array_header_t *keys; /* of todo_key_t */
};

/* ------------------------------------------------------------ names */

int todo_keys_alg_from_name(const char *name)
{
    int i;

    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < TODO_ALG_COUNT; i++) {
        if (strcmp(name, alg_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *todo_keys_alg_name(todo_alg_e alg)
{
    if ((int)alg < 0 || alg >= TODO_ALG_COUNT) {
        return NULL;
    }
    return alg_names[alg];
}

/* ---------------------------------------------------------- key sets */

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

static apr_status_t secret_cleanup(void *data)
{
    todo_bytes_t *b = data;

    /* Pool memory is recycled; do not leave the secret lying around. */
    OPENSSL_cleanse(b->data, b->len);
    return APR_SUCCESS;
}

todo_keys_t *todo_keys_make(apr_pool_t *p)
{
    todo_keys_t *ks = apr_pcalloc(p, sizeof(*ks));

    ks->pool = p;
    ks->keys = apr_array_make(p, 4, sizeof(todo_key_t));
    return ks;
}

/* Takes ownership of pkey: from here on the pool frees it. */
static void push_key(todo_keys_t *ks, unsigned algs, const char *kid,
                     EVP_PKEY *pkey, const unsigned char *secret,
                     apr_size_t secret_len)
{
    todo_key_t *k = apr_array_push(ks->keys);

    k->algs = algs;
    k->kid = kid ? apr_pstrdup(ks->pool, kid) : NULL;
    k->pkey = pkey;
    k->secret = secret;
    k->secret_len = secret_len;
    if (pkey) {
        apr_pool_cleanup_register(ks->pool, pkey, pkey_cleanup,
                                  apr_pool_cleanup_null);
    }
}

int todo_keys_kid_valid(const char *kid, apr_size_t len)
{
    return kid != NULL && len >= 1 && len <= TODO_KEYS_MAX_KID;
}

static int mem_contains(const char *hay, apr_size_t n, const char *needle);

/* Key material that is public by nature must never become an HMAC secret:
 * a public key PEM (or a JWK/JWKS) given to TodoJWTSecretFile would let
 * anybody who can fetch that key sign HS256 tokens -- the algorithm
 * confusion attack, built into the configuration.  NULL when fine. */
static const char *secret_is_key(const unsigned char *secret, apr_size_t len)
{
    const char *s = (const char *)secret;
    apr_size_t i = 0;

    if (mem_contains(s, len, "-----BEGIN ")) {
        return "the secret is a PEM key or certificate, which is no secret "
               "(configure public keys with TodoJWTPublicKeyFile)";
    }
    while (i < len
           && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
        i++;
    }
    if (i < len && s[i] == '{' && mem_contains(s, len, "\"kty\"")) {
        return "the secret is a JWK or JWKS document, which is no secret "
               "(configure it with TodoJWKSFile)";
    }
    return NULL;
}

const char *todo_keys_add_secret(todo_keys_t *ks, const unsigned char *secret,
                                 apr_size_t len, const char *kid)
{
    todo_bytes_t *copy;
    const char *reason;

    if (secret == NULL || len < TODO_KEYS_MIN_SECRET) {
        return apr_psprintf(ks->pool,
                            "secret is %" APR_SIZE_T_FMT " bytes; at least %d "
                            "are required",
                            secret ? len : 0, TODO_KEYS_MIN_SECRET);
    }
    if ((reason = secret_is_key(secret, len)) != NULL) {
        return reason;
    }
    if (kid && !todo_keys_kid_valid(kid, strlen(kid))) {
        return "key id must be 1 to 256 bytes";
    }
    copy = apr_palloc(ks->pool, sizeof(*copy));
    copy->data = apr_pmemdup(ks->pool, secret, len);
    copy->len = len;
    apr_pool_cleanup_register(ks->pool, copy, secret_cleanup,
                              apr_pool_cleanup_null);
    push_key(ks, ALGS_HS, kid, NULL, copy->data, len);
    return NULL;
}

/* The algorithms an EC key may verify: one, fixed by its curve (RFC 7518
 * section 3.4 pairs each ES algorithm with one curve). */
static unsigned ec_algs(EVP_PKEY *pkey)
{
    char group[64];
    size_t glen = 0;

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), &glen)) {
        return 0;
    }
    if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256")) {
        return TODO_ALG_BIT(TODO_ALG_ES256);
    }
    if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384")) {
        return TODO_ALG_BIT(TODO_ALG_ES384);
    }
    if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521")) {
        return TODO_ALG_BIT(TODO_ALG_ES512);
    }
    return 0;
}

static int public_check(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Which algorithms pkey may verify; 0 and *reason when it is refused. */
static unsigned key_algs(apr_pool_t *p, EVP_PKEY *pkey, const char **reason)
{
    unsigned algs = 0;

    *reason = "unsupported key type";
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        int bits = EVP_PKEY_get_bits(pkey);

        if (bits < 2048) {
            *reason = apr_psprintf(p,
                                   "RSA key is %d bits; at least 2048 "
                                   "are required",
                                   bits);
            return 0;
        }
        /* An exponent of 1 makes every message its own signature (and an
         * even one, or a prime modulus, is no RSA key either): anyone
         * could forge tokens.  OpenSSL's public check (SP 800-56B) wants
         * an odd e > 1 and a composite, odd n without small factors. */
        if (!public_check(pkey)) {
            *reason = "RSA public key is invalid (bad exponent or modulus)";
            return 0;
        }
        algs = ALGS_RS;
    }
    else if (EVP_PKEY_is_a(pkey, "EC")) {
        algs = ec_algs(pkey);
        if (algs && !public_check(pkey)) {
            *reason = "EC public key is not a valid point of its curve";
            return 0;
        }
    }
    else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        algs = TODO_ALG_BIT(TODO_ALG_EDDSA);
    }
    if (algs) {
        *reason = NULL;
    }
    return algs;
}

static int mem_contains(const char *hay, apr_size_t n, const char *needle)
{
    apr_size_t m = strlen(needle), i;

    for (i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return 1;
        }
    }
    return 0;
}

static int mem_starts(const char *s, apr_size_t n, const char *prefix)
{
    apr_size_t m = strlen(prefix);

    return n >= m && memcmp(s, prefix, m) == 0;
}

/* Refuse, before decoding, what is not one PEM public key: a private key
 * given by mistake must not be quietly reduced to its public half, since
 * the admin would be shipping the signing key to every web server. */
static const char *pem_precheck(const char *pem, apr_size_t len)
{
    static const char begin[] = "-----BEGIN ";
    apr_size_t i, b = sizeof(begin) - 1;

    if (mem_contains(pem, len, "PRIVATE KEY")) {
        return "a private key was given; configure the public key "
               "(openssl pkey -pubout)";
    }
    for (i = 0; i + b <= len; i++) {
        const char *label = pem + i + b;

        if (memcmp(pem + i, begin, b) != 0) {
            continue;
        }
        if (mem_starts(label, len - i - b, "PUBLIC KEY-----")
            || mem_starts(label, len - i - b, "RSA PUBLIC KEY-----")) {
            return NULL;
        }
        break;
    }
    return "not a PEM public key";
}

const char *todo_keys_add_pem(todo_keys_t *ks, const char *pem, apr_size_t len,
                              const char *kid)
{
    OSSL_DECODER_CTX *dctx;
    EVP_PKEY *pkey = NULL;
    const unsigned char *data = (const unsigned char *)pem;
    size_t dlen = len;
    const char *reason;
    unsigned algs;

    if (pem == NULL || len == 0) {
        return "not a PEM public key";
    }
    if ((reason = pem_precheck(pem, len)) != NULL) {
        return reason;
    }
    if (kid && !todo_keys_kid_valid(kid, strlen(kid))) {
        return "key id must be 1 to 256 bytes";
    }
    /* Failures are reported by reason; keep them out of the thread's
     * OpenSSL error queue, which other code reads. */
    ERR_set_mark();
    /* Structure NULL: both SubjectPublicKeyInfo and PKCS#1 "RSA PUBLIC
     * KEY" are accepted. */
    dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL,
                                         EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (dctx == NULL || !OSSL_DECODER_from_data(dctx, &data, &dlen)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    reason = "not a PEM public key";
    algs = pkey ? key_algs(ks->pool, pkey, &reason) : 0;
    ERR_pop_to_mark();
    if (algs == 0) {
        EVP_PKEY_free(pkey);
        return reason;
    }
    push_key(ks, algs, kid, pkey, NULL, 0);
    return NULL;
}
/* --------------------------------------------------------------- JWKS */

/* A base64url member of a JWK, decoded; 0 on success. */
static int jwk_bytes(apr_pool_t *p, json_t *jwk, const char *name,
                     todo_bytes_t *out)
{
    json_t *v = json_object_get(jwk, name);

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return -1;
    }
    return todo_b64_decode(p, json_string_value(v), json_string_length(v),
                           out);
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *jwk_rsa(apr_pool_t *p, json_t *jwk)
{
    todo_bytes_t n, e;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    EVP_PKEY *pkey = NULL;

    if (jwk_bytes(p, jwk, "n", &n) || jwk_bytes(p, jwk, "e", &e)) {
        return NULL;
    }
    bn = BN_bin2bn(n.data, (int)n.len, NULL);
    be = BN_bin2bn(e.data, (int)e.len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn && be && bld
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)
        && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL) {
        pkey = pkey_fromdata("RSA", params);
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

static EVP_PKEY *jwk_ec(apr_pool_t *p, json_t *jwk)
{
    static const struct {
        const char *crv;
        apr_size_t size;
    } curves[] = { { "P-256", 32 }, { "P-384", 48 }, { "P-521", 66 } };
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    todo_bytes_t x, y;
    unsigned char *pub;
    OSSL_PARAM params[3];
    apr_size_t i, size = 0;

    for (i = 0; crv && i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(crv, curves[i].crv) == 0) {
            size = curves[i].size;
        }
    }
    /* Coordinates must have the full length of the curve (RFC 7518
     * section 6.2.1.2), so there is one encoding per key. */
    if (size == 0 || jwk_bytes(p, jwk, "x", &x) || jwk_bytes(p, jwk, "y", &y)
        || x.len != size || y.len != size) {
        return NULL;
    }
    pub = apr_palloc(p, 1 + 2 * size);
    pub[0] = 0x04; /* uncompressed point */
    memcpy(pub + 1, x.data, size);
    memcpy(pub + 1 + size, y.data, size);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)crv, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub,
                                                  1 + 2 * size);
    params[2] = OSSL_PARAM_construct_end();
    return pkey_fromdata("EC", params);
}

static EVP_PKEY *jwk_okp(apr_pool_t *p, json_t *jwk)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    todo_bytes_t x;

    if (crv == NULL || strcmp(crv, "Ed25519") != 0
        || jwk_bytes(p, jwk, "x", &x) || x.len != 32) {
        return NULL;
    }
    return EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x.data, 32);
}

/* "use" and "key_ops" (RFC 7517 section 4.2, 4.3): a key published for
 * encryption is not ours to verify signatures with. */
static int jwk_for_signing(json_t *jwk)
{
    json_t *use = json_object_get(jwk, "use"), *ops, *op;
    size_t i;

    if (use
        && (!json_is_string(use)
            || strcmp(json_string_value(use), "sig") != 0)) {
        return 0;
    }
    ops = json_object_get(jwk, "key_ops");
    if (ops == NULL) {
        return 1;
    }
    if (!json_is_array(ops)) {
        return 0;
    }
    json_array_foreach(ops, i,
                       op) if (json_is_string(op)
                               && strcmp(json_string_value(op), "verify") == 0)
    {
        return 1;
    }
    return 0;
}

/* Parse one JWK into a key of ks; 0 when it was added, -1 when skipped. */
static int jwk_add(todo_keys_t *ks, apr_pool_t *tmp, json_t *jwk)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    json_t *kid = json_object_get(jwk, "kid");
    json_t *alg = json_object_get(jwk, "alg");
    EVP_PKEY *pkey = NULL;
    const char *reason;
    unsigned algs;

    if (kty == NULL || !jwk_for_signing(jwk)) {
        return -1;
    }
    if (kid
        && !(json_is_string(kid)
             && todo_keys_kid_valid(json_string_value(kid),
                                    json_string_length(kid)))) {
        return -1;
    }
    if (alg && !json_is_string(alg)) {
        return -1;
    }
    if (strcmp(kty, "RSA") == 0) {
        pkey = jwk_rsa(tmp, jwk);
    }
    else if (strcmp(kty, "EC") == 0) {
        pkey = jwk_ec(tmp, jwk);
    }
    else if (strcmp(kty, "OKP") == 0) {
        pkey = jwk_okp(tmp, jwk);
    }
    if (pkey == NULL) {
        return -1;
    }
    algs = key_algs(tmp, pkey, &reason);
    if (alg) {
        /* "alg" narrows the key to one algorithm, which must be one the
         * key type can do (an RSA key with "alg":"ES256" is a mistake). */
        int a = todo_keys_alg_from_name(json_string_value(alg));

        algs = (a >= 0) ? (algs & TODO_ALG_BIT(a)) : 0;
    }
    if (algs == 0) {
        EVP_PKEY_free(pkey);
        return -1;
    }
    push_key(ks, algs, json_string_value(kid), pkey, NULL, 0);
    return 0;
}

const char *todo_keys_add_jwks(todo_keys_t *ks, const char *json,
                               apr_size_t len, int *added)
{
    json_t *doc, *keys, *jwk;
    apr_pool_t *tmp;
    size_t i;
    int count = 0;

    if (added) {
        *added = 0;
    }
    if (json == NULL) {
        return "JWKS is not valid JSON";
    }
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    if (doc == NULL) {
        return "JWKS is not valid JSON";
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_object(doc) || !json_is_array(keys)) {
        json_decref(doc);
        return "not a JWKS document (no \"keys\" array)";
    }
    if (apr_pool_create(&tmp, ks->pool) != APR_SUCCESS) {
        json_decref(doc);
        return "out of memory";
    }
    ERR_set_mark();
    json_array_foreach(keys, i, jwk) if (json_is_object(jwk)
                                         && jwk_add(ks, tmp, jwk) == 0)
    {
        count++;
    }
    ERR_pop_to_mark();
    apr_pool_destroy(tmp);
    json_decref(doc);
    if (added) {
        *added = count;
    }
    return count ? NULL : "JWKS holds no usable signature key";
}

int todo_keys_count(const todo_keys_t *ks)
{
    return ks ? ks->keys->nelts : 0;
}

int todo_keys_supports(const todo_keys_t *ks, todo_alg_e alg)
{
    int i;

    if (ks == NULL || (int)alg < 0 || alg >= TODO_ALG_COUNT) {
        return 0;
    }
    for (i = 0; i < ks->keys->nelts; i++) {
        const todo_key_t *k = &APR_ARRAY_IDX(ks->keys, i, todo_key_t);

        if (k->algs & TODO_ALG_BIT(alg)) {
            return 1;
        }
    }
    return 0;
}
const todo_key_t *todo_keys_at(const todo_keys_t *ks, int i)
{
    if (!ks || i < 0 || i >= ks->keys->nelts) {
        return NULL;
    }
    return &APR_ARRAY_IDX(ks->keys, i, todo_key_t);
}
