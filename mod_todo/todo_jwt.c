/* todo_jwt: JSON Web Token verification with OpenSSL 3 (EVP) and jansson.
 *
 * Keys are parsed once, when they are loaded, into EVP_PKEYs (or a copied
 * HMAC secret) and bound to the algorithms they may verify.  A key set is
 * never modified after configuration, so todo_jwt_verify() only reads it
 * and may run concurrently in many threads. */
#include "todo_jwt.h"

#include <string.h>
#include <strings.h>

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

/* A kid is an opaque label; bound it so a hostile header cannot make us
 * copy or compare megabytes. */
#define TODO_JWT_MAX_KID 256

#define TODO_ALGS_HS (TODO_ALG_BIT(TODO_ALG_HS256) | \
                      TODO_ALG_BIT(TODO_ALG_HS384) | \
                      TODO_ALG_BIT(TODO_ALG_HS512))
#define TODO_ALGS_RS (TODO_ALG_BIT(TODO_ALG_RS256) | \
                      TODO_ALG_BIT(TODO_ALG_RS384) | \
                      TODO_ALG_BIT(TODO_ALG_RS512))

static const char *const todo_jwt_alg_names[TODO_ALG_COUNT] = {
    "HS256", "HS384", "HS512",
    "RS256", "RS384", "RS512",
    "ES256", "ES384", "ES512",
    "EdDSA"
};

typedef struct {
    unsigned algs;              /* TODO_ALG_BIT mask this key may verify */
    const char *kid;            /* NULL: the key matches any token kid */
    EVP_PKEY *pkey;             /* RSA, EC or Ed25519; NULL for a secret */
    const unsigned char *secret;
    apr_size_t secret_len;
} todo_jwt_key_t;

struct todo_jwt_keyset {
    apr_pool_t *pool;
    apr_array_header_t *keys;   /* of todo_jwt_key_t */
};

typedef struct {
    unsigned char *data;
    apr_size_t len;
} todo_jwt_bytes_t;

/* ------------------------------------------------------------ names */

int todo_jwt_alg_from_name(const char *name)
{
    int i;

    if (name == NULL)
        return -1;
    for (i = 0; i < TODO_ALG_COUNT; i++)
        if (strcmp(name, todo_jwt_alg_names[i]) == 0)
            return i;
    return -1;
}

const char *todo_jwt_alg_name(todo_alg_e alg)
{
    if ((int)alg < 0 || alg >= TODO_ALG_COUNT)
        return NULL;
    return todo_jwt_alg_names[alg];
}

/* SHA-2 variant of an HS/RS/ES algorithm; NULL for EdDSA, whose digest is
 * part of the signature scheme. */
static const char *todo_jwt_md_name(todo_alg_e alg)
{
    static const char *const md[3] = { "SHA256", "SHA384", "SHA512" };

    if (alg == TODO_ALG_EDDSA)
        return NULL;
    return md[alg % 3];
}

/* -------------------------------------------------------- base64url */

static int todo_jwt_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Strict base64url (RFC 7515 section 2): url alphabet only, no padding,
 * and only the canonical encoding -- unused trailing bits must be zero, so
 * that one token has exactly one spelling (a cache keyed on the token text
 * cannot be fooled by aliases).  Returns 0 on success. */
static int todo_jwt_b64url_decode(apr_pool_t *p, const char *s, apr_size_t n,
                                  todo_jwt_bytes_t *out)
{
    unsigned acc = 0, bits = 0;
    apr_size_t i, o = 0;

    if (n % 4 == 1)
        return -1;
    out->data = apr_palloc(p, n / 4 * 3 + 3);
    for (i = 0; i < n; i++) {
        int v = todo_jwt_b64_value((unsigned char)s[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1;
    out->len = o;
    return 0;
}

/* ---------------------------------------------------------- key sets */

static apr_status_t todo_jwt_pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

static apr_status_t todo_jwt_secret_cleanup(void *data)
{
    todo_jwt_bytes_t *b = data;

    /* Pool memory is recycled; do not leave the secret lying around. */
    OPENSSL_cleanse(b->data, b->len);
    return APR_SUCCESS;
}

todo_jwt_keyset_t *todo_jwt_keyset_make(apr_pool_t *p)
{
    todo_jwt_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));

    ks->pool = p;
    ks->keys = apr_array_make(p, 4, sizeof(todo_jwt_key_t));
    return ks;
}

/* Takes ownership of pkey: from here on the pool frees it. */
static void todo_jwt_keyset_push(todo_jwt_keyset_t *ks, unsigned algs,
                                 const char *kid, EVP_PKEY *pkey,
                                 const unsigned char *secret,
                                 apr_size_t secret_len)
{
    todo_jwt_key_t *k = apr_array_push(ks->keys);

    k->algs = algs;
    k->kid = kid ? apr_pstrdup(ks->pool, kid) : NULL;
    k->pkey = pkey;
    k->secret = secret;
    k->secret_len = secret_len;
    if (pkey)
        apr_pool_cleanup_register(ks->pool, pkey, todo_jwt_pkey_cleanup,
                                  apr_pool_cleanup_null);
}

static int todo_jwt_kid_valid(const char *kid, apr_size_t len)
{
    return kid != NULL && len >= 1 && len <= TODO_JWT_MAX_KID;
}

static int todo_jwt_mem_contains(const char *hay, apr_size_t n,
                                 const char *needle);

/* Key material that is public by nature must never become an HMAC secret:
 * a public key PEM (or a JWK/JWKS) given to TodoJWTSecretFile would let
 * anybody who can fetch that key sign HS256 tokens -- the algorithm
 * confusion attack, built into the configuration.  NULL when fine. */
static const char *todo_jwt_secret_is_key(const unsigned char *secret,
                                          apr_size_t len)
{
    const char *s = (const char *)secret;
    apr_size_t i = 0;

    if (todo_jwt_mem_contains(s, len, "-----BEGIN "))
        return "the secret is a PEM key or certificate, which is no secret "
               "(configure public keys with TodoJWTPublicKeyFile)";
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'
                       || s[i] == '\n'))
        i++;
    if (i < len && s[i] == '{' && todo_jwt_mem_contains(s, len, "\"kty\""))
        return "the secret is a JWK or JWKS document, which is no secret "
               "(configure it with TodoJWKSFile)";
    return NULL;
}

const char *todo_jwt_keyset_add_secret(todo_jwt_keyset_t *ks,
                                       const unsigned char *secret,
                                       apr_size_t len, const char *kid)
{
    todo_jwt_bytes_t *copy;
    const char *reason;

    if (secret == NULL || len < TODO_JWT_MIN_SECRET)
        return apr_psprintf(ks->pool,
                            "secret is %" APR_SIZE_T_FMT " bytes; at least %d "
                            "are required", secret ? len : 0,
                            TODO_JWT_MIN_SECRET);
    if ((reason = todo_jwt_secret_is_key(secret, len)) != NULL)
        return reason;
    if (kid && !todo_jwt_kid_valid(kid, strlen(kid)))
        return "key id must be 1 to 256 bytes";
    copy = apr_palloc(ks->pool, sizeof(*copy));
    copy->data = apr_pmemdup(ks->pool, secret, len);
    copy->len = len;
    apr_pool_cleanup_register(ks->pool, copy, todo_jwt_secret_cleanup,
                              apr_pool_cleanup_null);
    todo_jwt_keyset_push(ks, TODO_ALGS_HS, kid, NULL, copy->data, len);
    return NULL;
}

/* The algorithms an EC key may verify: one, fixed by its curve (RFC 7518
 * section 3.4 pairs each ES algorithm with one curve). */
static unsigned todo_jwt_ec_algs(EVP_PKEY *pkey)
{
    char group[64];
    size_t glen = 0;

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), &glen))
        return 0;
    if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
        return TODO_ALG_BIT(TODO_ALG_ES256);
    if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
        return TODO_ALG_BIT(TODO_ALG_ES384);
    if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
        return TODO_ALG_BIT(TODO_ALG_ES512);
    return 0;
}

static int todo_jwt_public_check(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Which algorithms pkey may verify; 0 and *reason when it is refused. */
static unsigned todo_jwt_key_algs(apr_pool_t *p, EVP_PKEY *pkey,
                                  const char **reason)
{
    unsigned algs = 0;

    *reason = "unsupported key type";
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        int bits = EVP_PKEY_get_bits(pkey);

        if (bits < 2048) {
            *reason = apr_psprintf(p, "RSA key is %d bits; at least 2048 "
                                   "are required", bits);
            return 0;
        }
        /* An exponent of 1 makes every message its own signature (and an
         * even one, or a prime modulus, is no RSA key either): anyone
         * could forge tokens.  OpenSSL's public check (SP 800-56B) wants
         * an odd e > 1 and a composite, odd n without small factors. */
        if (!todo_jwt_public_check(pkey)) {
            *reason = "RSA public key is invalid (bad exponent or modulus)";
            return 0;
        }
        algs = TODO_ALGS_RS;
    }
    else if (EVP_PKEY_is_a(pkey, "EC")) {
        algs = todo_jwt_ec_algs(pkey);
        if (algs && !todo_jwt_public_check(pkey)) {
            *reason = "EC public key is not a valid point of its curve";
            return 0;
        }
    }
    else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        algs = TODO_ALG_BIT(TODO_ALG_EDDSA);
    }
    if (algs)
        *reason = NULL;
    return algs;
}

static int todo_jwt_mem_contains(const char *hay, apr_size_t n,
                                 const char *needle)
{
    apr_size_t m = strlen(needle), i;

    for (i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

static int todo_jwt_mem_starts(const char *s, apr_size_t n, const char *prefix)
{
    apr_size_t m = strlen(prefix);

    return n >= m && memcmp(s, prefix, m) == 0;
}

/* Refuse, before decoding, what is not one PEM public key: a private key
 * given by mistake must not be quietly reduced to its public half, since
 * the admin would be shipping the signing key to every web server. */
static const char *todo_jwt_pem_precheck(const char *pem, apr_size_t len)
{
    static const char begin[] = "-----BEGIN ";
    apr_size_t i, b = sizeof(begin) - 1;

    if (todo_jwt_mem_contains(pem, len, "PRIVATE KEY"))
        return "a private key was given; configure the public key "
               "(openssl pkey -pubout)";
    for (i = 0; i + b <= len; i++) {
        const char *label = pem + i + b;

        if (memcmp(pem + i, begin, b) != 0)
            continue;
        if (todo_jwt_mem_starts(label, len - i - b, "PUBLIC KEY-----")
            || todo_jwt_mem_starts(label, len - i - b, "RSA PUBLIC KEY-----"))
            return NULL;
        break;
    }
    return "not a PEM public key";
}

const char *todo_jwt_keyset_add_pem(todo_jwt_keyset_t *ks, const char *pem,
                                    apr_size_t len, const char *kid)
{
    OSSL_DECODER_CTX *dctx;
    EVP_PKEY *pkey = NULL;
    const unsigned char *data = (const unsigned char *)pem;
    size_t dlen = len;
    const char *reason;
    unsigned algs;

    if (pem == NULL || len == 0)
        return "not a PEM public key";
    if ((reason = todo_jwt_pem_precheck(pem, len)) != NULL)
        return reason;
    if (kid && !todo_jwt_kid_valid(kid, strlen(kid)))
        return "key id must be 1 to 256 bytes";
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
    algs = pkey ? todo_jwt_key_algs(ks->pool, pkey, &reason) : 0;
    ERR_pop_to_mark();
    if (algs == 0) {
        EVP_PKEY_free(pkey);
        return reason;
    }
    todo_jwt_keyset_push(ks, algs, kid, pkey, NULL, 0);
    return NULL;
}

/* --------------------------------------------------------------- JWKS */

/* A base64url member of a JWK, decoded; 0 on success. */
static int todo_jwt_jwk_bytes(apr_pool_t *p, json_t *jwk, const char *name,
                              todo_jwt_bytes_t *out)
{
    json_t *v = json_object_get(jwk, name);

    if (!json_is_string(v) || json_string_length(v) == 0)
        return -1;
    return todo_jwt_b64url_decode(p, json_string_value(v),
                                  json_string_length(v), out);
}

static EVP_PKEY *todo_jwt_pkey_fromdata(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *todo_jwt_jwk_rsa(apr_pool_t *p, json_t *jwk)
{
    todo_jwt_bytes_t n, e;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    EVP_PKEY *pkey = NULL;

    if (todo_jwt_jwk_bytes(p, jwk, "n", &n)
        || todo_jwt_jwk_bytes(p, jwk, "e", &e))
        return NULL;
    bn = BN_bin2bn(n.data, (int)n.len, NULL);
    be = BN_bin2bn(e.data, (int)e.len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn && be && bld
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)
        && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
        pkey = todo_jwt_pkey_fromdata("RSA", params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

static EVP_PKEY *todo_jwt_jwk_ec(apr_pool_t *p, json_t *jwk)
{
    static const struct { const char *crv; apr_size_t size; } curves[] = {
        { "P-256", 32 }, { "P-384", 48 }, { "P-521", 66 }
    };
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    todo_jwt_bytes_t x, y;
    unsigned char *pub;
    OSSL_PARAM params[3];
    apr_size_t i, size = 0;

    for (i = 0; crv && i < sizeof(curves) / sizeof(curves[0]); i++)
        if (strcmp(crv, curves[i].crv) == 0)
            size = curves[i].size;
    /* Coordinates must have the full length of the curve (RFC 7518
     * section 6.2.1.2), so there is one encoding per key. */
    if (size == 0 || todo_jwt_jwk_bytes(p, jwk, "x", &x)
        || todo_jwt_jwk_bytes(p, jwk, "y", &y)
        || x.len != size || y.len != size)
        return NULL;
    pub = apr_palloc(p, 1 + 2 * size);
    pub[0] = 0x04;              /* uncompressed point */
    memcpy(pub + 1, x.data, size);
    memcpy(pub + 1 + size, y.data, size);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)crv, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  pub, 1 + 2 * size);
    params[2] = OSSL_PARAM_construct_end();
    return todo_jwt_pkey_fromdata("EC", params);
}

static EVP_PKEY *todo_jwt_jwk_okp(apr_pool_t *p, json_t *jwk)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    todo_jwt_bytes_t x;

    if (crv == NULL || strcmp(crv, "Ed25519") != 0
        || todo_jwt_jwk_bytes(p, jwk, "x", &x) || x.len != 32)
        return NULL;
    return EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x.data, 32);
}

/* "use" and "key_ops" (RFC 7517 section 4.2, 4.3): a key published for
 * encryption is not ours to verify signatures with. */
static int todo_jwt_jwk_for_signing(json_t *jwk)
{
    json_t *use = json_object_get(jwk, "use"), *ops, *op;
    size_t i;

    if (use && (!json_is_string(use)
                || strcmp(json_string_value(use), "sig") != 0))
        return 0;
    ops = json_object_get(jwk, "key_ops");
    if (ops == NULL)
        return 1;
    if (!json_is_array(ops))
        return 0;
    json_array_foreach(ops, i, op)
        if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
            return 1;
    return 0;
}

/* Parse one JWK into a key of ks; 0 when it was added, -1 when skipped. */
static int todo_jwt_jwk_add(todo_jwt_keyset_t *ks, apr_pool_t *tmp,
                            json_t *jwk)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    json_t *kid = json_object_get(jwk, "kid");
    json_t *alg = json_object_get(jwk, "alg");
    EVP_PKEY *pkey = NULL;
    const char *reason;
    unsigned algs;

    if (kty == NULL || !todo_jwt_jwk_for_signing(jwk))
        return -1;
    if (kid && !(json_is_string(kid)
                 && todo_jwt_kid_valid(json_string_value(kid),
                                       json_string_length(kid))))
        return -1;
    if (alg && !json_is_string(alg))
        return -1;
    if (strcmp(kty, "RSA") == 0)
        pkey = todo_jwt_jwk_rsa(tmp, jwk);
    else if (strcmp(kty, "EC") == 0)
        pkey = todo_jwt_jwk_ec(tmp, jwk);
    else if (strcmp(kty, "OKP") == 0)
        pkey = todo_jwt_jwk_okp(tmp, jwk);
    if (pkey == NULL)
        return -1;
    algs = todo_jwt_key_algs(tmp, pkey, &reason);
    if (alg) {
        /* "alg" narrows the key to one algorithm, which must be one the
         * key type can do (an RSA key with "alg":"ES256" is a mistake). */
        int a = todo_jwt_alg_from_name(json_string_value(alg));

        algs = (a >= 0) ? (algs & TODO_ALG_BIT(a)) : 0;
    }
    if (algs == 0) {
        EVP_PKEY_free(pkey);
        return -1;
    }
    todo_jwt_keyset_push(ks, algs, json_string_value(kid), pkey, NULL, 0);
    return 0;
}

const char *todo_jwt_keyset_add_jwks(todo_jwt_keyset_t *ks, const char *json,
                                     apr_size_t len, int *added)
{
    json_t *doc, *keys, *jwk;
    apr_pool_t *tmp;
    size_t i;
    int count = 0;

    if (added)
        *added = 0;
    if (json == NULL)
        return "JWKS is not valid JSON";
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    if (doc == NULL)
        return "JWKS is not valid JSON";
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
    json_array_foreach(keys, i, jwk)
        if (json_is_object(jwk) && todo_jwt_jwk_add(ks, tmp, jwk) == 0)
            count++;
    ERR_pop_to_mark();
    apr_pool_destroy(tmp);
    json_decref(doc);
    if (added)
        *added = count;
    return count ? NULL : "JWKS holds no usable signature key";
}

int todo_jwt_keyset_count(const todo_jwt_keyset_t *ks)
{
    return ks ? ks->keys->nelts : 0;
}

int todo_jwt_keyset_supports(const todo_jwt_keyset_t *ks, todo_alg_e alg)
{
    int i;

    if (ks == NULL || (int)alg < 0 || alg >= TODO_ALG_COUNT)
        return 0;
    for (i = 0; i < ks->keys->nelts; i++) {
        const todo_jwt_key_t *k = &APR_ARRAY_IDX(ks->keys, i, todo_jwt_key_t);

        if (k->algs & TODO_ALG_BIT(alg))
            return 1;
    }
    return 0;
}

/* -------------------------------------------------------- signatures */

static int todo_jwt_digest_verify(EVP_PKEY *pkey, const char *md,
                                  const unsigned char *sig, size_t slen,
                                  const unsigned char *data, size_t dlen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL
        && EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, pkey, NULL) == 1
        && EVP_DigestVerify(ctx, sig, slen, data, dlen) == 1;

    EVP_MD_CTX_free(ctx);
    return ok;
}

static int todo_jwt_hmac_verify(const todo_jwt_key_t *k, const char *md,
                                const unsigned char *sig, size_t slen,
                                const unsigned char *data, size_t dlen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    int ok;

    if (!EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, k->secret, k->secret_len,
                   data, dlen, mac, sizeof(mac), &maclen))
        return 0;
    /* Constant time, and a truncated MAC is not a MAC. */
    ok = slen == maclen && CRYPTO_memcmp(mac, sig, maclen) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

/* JWS carries ECDSA signatures as raw R || S (RFC 7518 section 3.4);
 * OpenSSL wants DER, so re-encode. */
static int todo_jwt_ecdsa_verify(const todo_jwt_key_t *k, todo_alg_e alg,
                                 const unsigned char *sig, size_t slen,
                                 const unsigned char *data, size_t dlen)
{
    size_t half = alg == TODO_ALG_ES256 ? 32 : alg == TODO_ALG_ES384 ? 48 : 66;
    BIGNUM *r, *s;
    ECDSA_SIG *es;
    unsigned char *der = NULL;
    int derlen, ok = 0;

    if (slen != 2 * half)
        return 0;
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
    if (derlen > 0)
        ok = todo_jwt_digest_verify(k->pkey, todo_jwt_md_name(alg), der,
                                    (size_t)derlen, data, dlen);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return ok;
}

static int todo_jwt_sig_verify(const todo_jwt_key_t *k, todo_alg_e alg,
                               const todo_jwt_bytes_t *sig,
                               const char *data, apr_size_t dlen)
{
    const unsigned char *d = (const unsigned char *)data;

    switch (alg) {
    case TODO_ALG_HS256: case TODO_ALG_HS384: case TODO_ALG_HS512:
        return k->secret != NULL
            && todo_jwt_hmac_verify(k, todo_jwt_md_name(alg), sig->data,
                                    sig->len, d, dlen);
    case TODO_ALG_RS256: case TODO_ALG_RS384: case TODO_ALG_RS512:
        return k->pkey != NULL
            && sig->len == (apr_size_t)EVP_PKEY_get_size(k->pkey)
            && todo_jwt_digest_verify(k->pkey, todo_jwt_md_name(alg),
                                      sig->data, sig->len, d, dlen);
    case TODO_ALG_ES256: case TODO_ALG_ES384: case TODO_ALG_ES512:
        return k->pkey != NULL
            && todo_jwt_ecdsa_verify(k, alg, sig->data, sig->len, d, dlen);
    case TODO_ALG_EDDSA:
        return k->pkey != NULL && sig->len == 64
            && todo_jwt_digest_verify(k->pkey, NULL, sig->data, sig->len,
                                      d, dlen);
    default:
        return 0;
    }
}

/* The failures that more keys could have turned into a success. */
static const char todo_jwt_reason_unknown_kid[] = "unknown key id";
static const char todo_jwt_reason_no_key[] = "no key for algorithm";
static const char todo_jwt_reason_bad_sig[] = "bad signature";

/* Try every key bound to alg whose kid is compatible, in order. */
static todo_jwt_status_e todo_jwt_check_signature(
    const todo_jwt_keyset_t *const *keysets, int nsets, todo_alg_e alg,
    const char *kid, const todo_jwt_bytes_t *sig, const char *data,
    apr_size_t dlen, const char **reason)
{
    int s, i, candidates = 0, ok = 0;

    ERR_set_mark();
    for (s = 0; s < nsets && !ok; s++) {
        const todo_jwt_keyset_t *ks = keysets ? keysets[s] : NULL;

        for (i = 0; ks && i < ks->keys->nelts && !ok; i++) {
            const todo_jwt_key_t *k = &APR_ARRAY_IDX(ks->keys, i,
                                                     todo_jwt_key_t);

            if (!(k->algs & TODO_ALG_BIT(alg)))
                continue;
            if (k->kid && kid && strcmp(k->kid, kid) != 0)
                continue;
            candidates++;
            ok = todo_jwt_sig_verify(k, alg, sig, data, dlen);
        }
    }
    /* Failed checks leave errors in the thread's OpenSSL queue, where they
     * would confuse the next user of it (mod_ssl, for one). */
    ERR_pop_to_mark();
    if (ok)
        return TODO_JWT_OK;
    if (candidates == 0) {
        *reason = kid ? todo_jwt_reason_unknown_kid : todo_jwt_reason_no_key;
        return kid ? TODO_JWT_UNKNOWN_KID : TODO_JWT_INVALID;
    }
    *reason = todo_jwt_reason_bad_sig;
    return TODO_JWT_INVALID;
}

int todo_jwt_reason_needs_keys(const char *reason)
{
    return reason != NULL
        && (strcmp(reason, todo_jwt_reason_unknown_kid) == 0
            || strcmp(reason, todo_jwt_reason_no_key) == 0
            || strcmp(reason, todo_jwt_reason_bad_sig) == 0);
}

/* ------------------------------------------------------------ parsing */

typedef struct {
    const char *signed_part;    /* "<header>.<payload>" */
    apr_size_t signed_len;
    todo_jwt_bytes_t header, payload, sig;
} todo_jwt_parts_t;

/* Three non-empty strict base64url segments; 0 on success. */
static int todo_jwt_split(apr_pool_t *p, const char *token, apr_size_t len,
                          todo_jwt_parts_t *parts)
{
    apr_size_t dot[2], i;
    int ndots = 0;

    for (i = 0; i < len; i++) {
        if (token[i] != '.')
            continue;
        if (ndots == 2)
            return -1;
        dot[ndots++] = i;
    }
    if (ndots != 2 || dot[0] == 0 || dot[1] == dot[0] + 1
        || dot[1] + 1 == len)
        return -1;
    parts->signed_part = token;
    parts->signed_len = dot[1];
    if (todo_jwt_b64url_decode(p, token, dot[0], &parts->header)
        || todo_jwt_b64url_decode(p, token + dot[0] + 1, dot[1] - dot[0] - 1,
                                  &parts->payload)
        || todo_jwt_b64url_decode(p, token + dot[1] + 1, len - dot[1] - 1,
                                  &parts->sig))
        return -1;
    return 0;
}

static json_t *todo_jwt_parse_object(const todo_jwt_bytes_t *b)
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
static int todo_jwt_typ_ok(json_t *typ)
{
    static const char *const ok[] = {
        "JWT", "at+jwt", "application/jwt", "application/at+jwt"
    };
    size_t i;

    if (typ == NULL)
        return 1;
    if (!json_is_string(typ))
        return 0;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcasecmp(json_string_value(typ), ok[i]) == 0)
            return 1;
    return 0;
}

static const char *todo_jwt_header_check(json_t *h,
                                         const todo_jwt_policy_t *policy,
                                         todo_alg_e *alg, const char **kid)
{
    json_t *a = json_object_get(h, "alg"), *k = json_object_get(h, "kid");
    int n;

    if (a == NULL)
        return "missing alg";
    n = json_is_string(a) ? todo_jwt_alg_from_name(json_string_value(a)) : -1;
    if (n < 0)
        return "unsupported algorithm";
    if (!(policy->algs & TODO_ALG_BIT(n)))
        return "algorithm not allowed";
    /* We understand no extension, so any critical one must fail
     * (RFC 7515 section 4.1.11). */
    if (json_object_get(h, "crit"))
        return "unsupported critical header";
    if (k && !(json_is_string(k)
               && todo_jwt_kid_valid(json_string_value(k),
                                     json_string_length(k))))
        return "invalid key id";
    if (!todo_jwt_typ_ok(json_object_get(h, "typ")))
        return "not an access token (typ)";
    *alg = (todo_alg_e)n;
    *kid = k ? json_string_value(k) : NULL;
    return NULL;
}

/* ------------------------------------------------------------- claims */

/* now >= t + l, computed without overflow (l >= 0). */
static int todo_jwt_reached(apr_int64_t now, apr_int64_t t, apr_int64_t l)
{
    if (t > APR_INT64_MAX - l)
        return 0;
    return now >= t + l;
}

/* t > now + l, computed without overflow (l >= 0). */
static int todo_jwt_beyond(apr_int64_t t, apr_int64_t now, apr_int64_t l)
{
    if (now > APR_INT64_MAX - l)
        return 0;
    return t > now + l;
}

static int todo_jwt_string_is(json_t *v, const char *want)
{
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

static int todo_jwt_audience_ok(json_t *aud, const char *want)
{
    json_t *v;
    size_t i;

    if (json_is_string(aud))
        return todo_jwt_string_is(aud, want);
    if (!json_is_array(aud))
        return 0;
    json_array_foreach(aud, i, v)
        if (todo_jwt_string_is(v, want))
            return 1;
    return 0;
}

static const char *todo_jwt_time_check(json_t *c, apr_int64_t now,
                                       apr_int64_t l, apr_int64_t *exp)
{
    json_t *e = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf");
    json_t *iat = json_object_get(c, "iat");

    if (e == NULL)
        return "missing exp";
    if (!json_is_integer(e))
        return "exp is not an integer";
    *exp = (apr_int64_t)json_integer_value(e);
    if (todo_jwt_reached(now, *exp, l))
        return "token expired";
    if (nbf && !json_is_integer(nbf))
        return "nbf is not an integer";
    if (nbf && todo_jwt_beyond((apr_int64_t)json_integer_value(nbf), now, l))
        return "token not yet valid";
    if (iat && !json_is_integer(iat))
        return "iat is not an integer";
    if (iat && todo_jwt_beyond((apr_int64_t)json_integer_value(iat), now, l))
        return "token issued in the future";
    return NULL;
}

/* The user name ends up in r->user, the access log and SQL parameters:
 * keep it printable and bounded. */
static const char *todo_jwt_user_check(json_t *u)
{
    const unsigned char *s;
    size_t n, i;

    if (u == NULL)
        return "missing user claim";
    if (!json_is_string(u))
        return "invalid user claim";
    s = (const unsigned char *)json_string_value(u);
    n = json_string_length(u);
    if (n == 0 || n > TODO_JWT_MAX_USER)
        return "invalid user claim";
    for (i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return "invalid user claim";
    return NULL;
}

static const char *todo_jwt_claims_check(apr_pool_t *p, json_t *c,
                                         const todo_jwt_policy_t *policy,
                                         apr_int64_t now,
                                         todo_jwt_result_t *out)
{
    apr_int64_t l = policy->leeway > 0 ? policy->leeway : 0;
    const char *claim = policy->user_claim ? policy->user_claim : "sub";
    const char *reason;
    json_t *u;

    if ((reason = todo_jwt_time_check(c, now, l, &out->exp)) != NULL)
        return reason;
    if (policy->issuer
        && !todo_jwt_string_is(json_object_get(c, "iss"), policy->issuer))
        return "issuer mismatch";
    if (policy->audience
        && !todo_jwt_audience_ok(json_object_get(c, "aud"), policy->audience))
        return "audience mismatch";
    u = json_object_get(c, claim);
    if ((reason = todo_jwt_user_check(u)) != NULL)
        return reason;
    out->user = apr_pstrmemdup(p, json_string_value(u), json_string_length(u));
    return NULL;
}

/* -------------------------------------------------------------- verify */

static todo_jwt_status_e todo_jwt_fail(const char **reason, const char *why)
{
    *reason = why;
    return TODO_JWT_INVALID;
}

todo_jwt_status_e todo_jwt_verify(apr_pool_t *p, const char *token,
                                  apr_size_t len,
                                  const todo_jwt_policy_t *policy,
                                  const todo_jwt_keyset_t *const *keysets,
                                  int nsets, apr_int64_t now,
                                  todo_jwt_result_t *out,
                                  const char **reason)
{
    todo_jwt_parts_t parts;
    todo_jwt_result_t res;
    todo_jwt_status_e st;
    const char *why, *kid = NULL, *dummy;
    json_t *json;

    if (reason == NULL)
        reason = &dummy;
    *reason = NULL;
    memset(&res, 0, sizeof(res));
    if (out) {
        memset(out, 0, sizeof(*out));
        out->alg = TODO_ALG_COUNT;      /* until the header is checked */
    }
    if (len > TODO_JWT_MAX_TOKEN)
        return todo_jwt_fail(reason, "token too long");
    if (token == NULL || len == 0 || todo_jwt_split(p, token, len, &parts))
        return todo_jwt_fail(reason, "malformed token");
    if (policy == NULL)
        return todo_jwt_fail(reason, "algorithm not allowed");

    if ((json = todo_jwt_parse_object(&parts.header)) == NULL)
        return todo_jwt_fail(reason, "malformed token");
    why = todo_jwt_header_check(json, policy, &res.alg, &kid);
    if (why == NULL && kid)
        res.kid = kid = apr_pstrdup(p, kid);
    json_decref(json);
    if (why)
        return todo_jwt_fail(reason, why);
    if (out)
        out->alg = res.alg;

    /* The signature is checked before the claims are even parsed: an
     * unauthenticated payload gets no further than the base64 decoder. */
    st = todo_jwt_check_signature(keysets, nsets, res.alg, kid, &parts.sig,
                                  parts.signed_part, parts.signed_len, reason);
    if (st != TODO_JWT_OK)
        return st;

    if ((json = todo_jwt_parse_object(&parts.payload)) == NULL)
        return todo_jwt_fail(reason, "malformed token");
    why = todo_jwt_claims_check(p, json, policy, now, &res);
    json_decref(json);
    if (why)
        return todo_jwt_fail(reason, why);
    if (out)
        *out = res;
    return TODO_JWT_OK;
}
