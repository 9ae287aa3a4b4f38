/* Unit tests of todo_jwt: key loading and token verification.
 *
 * HS*, RS* and ES* tokens are minted with libjwt, an implementation
 * independent of the verifier; EdDSA tokens and hand-crafted hostile tokens
 * are signed here with OpenSSL directly.  Time is always passed explicitly,
 * so every test is deterministic. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "todo_test.h"
#include "todo_jwt.h"

#ifndef TODO_TEST_DATA
#error "TODO_TEST_DATA must name the t/data directory"
#endif

#define NOW ((apr_int64_t)1700000000)
#define SECRET "0123456789abcdef0123456789abcdef-test"
#define ALL_ALGS ((1u << TODO_ALG_COUNT) - 1)

static todo_keys_t *ks_secret, *ks_pem, *ks_jwks;
static EVP_PKEY *ed_priv; /* signs EdDSA test tokens */

/* ---------------------------------------------------------- helpers */

static EVP_PKEY *load_private(const char *name)
{
    apr_size_t n;
    char *pem = todo_test_slurp(
        todo_test_pool, apr_pstrcat(todo_test_pool, "keys/", name, NULL), &n);
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

    BIO_free(bio);
    assert_non_null(k);
    return k;
}

static const char *b64s(const char *s)
{
    return todo_test_b64url(todo_test_pool, s, strlen(s));
}

/* Decode the (canonical) base64url segment s of length n, for tampering. */
static unsigned char *unb64(const char *s, size_t n, size_t *outlen)
{
    char *t = apr_palloc(todo_test_pool, n + 4);
    unsigned char *out = apr_palloc(todo_test_pool, n + 4);
    size_t i;
    int len;

    for (i = 0; i < n; i++) {
        t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    }
    while (i % 4) {
        t[i++] = '=';
    }
    len = EVP_DecodeBlock(out, (unsigned char *)t, (int)i);
    assert_true(len >= 0);
    /* EVP_DecodeBlock counts padding as zero bytes. */
    *outlen = (size_t)len - (n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0);
    return out;
}

/* "<header>.<payload>" signed with HMAC (md "SHA256"...) and key. */
static const char *sign_hmac(const char *md, const void *key, size_t keylen,
                             const char *input)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;

    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key, keylen,
                              (const unsigned char *)input, strlen(input), mac,
                              sizeof(mac), &maclen));
    return apr_pstrcat(todo_test_pool, input, ".",
                       todo_test_b64url(todo_test_pool, mac, maclen), NULL);
}

static const char *input_of(const char *header, const char *payload)
{
    return apr_pstrcat(todo_test_pool, b64s(header), ".", b64s(payload), NULL);
}

/* An HS256 token with the test secret and arbitrary header/payload text. */
static const char *hs(const char *header, const char *payload)
{
    return sign_hmac("SHA256", SECRET, strlen(SECRET),
                     input_of(header, payload));
}

#define HS256_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* An HS256 token with the test secret and the given payload. */
static const char *hsp(const char *payload)
{
    return hs(HS256_HEADER, payload);
}

static const char *claims(apr_int64_t exp)
{
    return apr_psprintf(todo_test_pool,
                        "{\"sub\":\"alice\",\"exp\":%" APR_INT64_T_FMT
                        ",\"iat\":%" APR_INT64_T_FMT "}",
                        exp, NOW - 10);
}

static const char *ed_token(const char *kid, const char *payload)
{
    const char *h = kid ? apr_psprintf(todo_test_pool,
                                       "{\"alg\":\"EdDSA\",\"kid\":"
                                       "\"%s\"}",
                                       kid)
                        : "{\"alg\":\"EdDSA\"}";

    return todo_test_sign_ed25519(todo_test_pool, ed_priv,
                                  input_of(h, payload));
}

/* Mint with libjwt: key is the secret (alg HS*) or the private key file. */
static const char *mint(jwt_alg_t alg, const char *keyfile,
                        const char *claims_json, const char *kid)
{
    jwt_t *jwt = NULL;
    const unsigned char *key = (const unsigned char *)SECRET;
    apr_size_t keylen = strlen(SECRET);
    char *s;
    const char *copy;

    if (keyfile) {
        key = (const unsigned char *)todo_test_slurp(
            todo_test_pool,
            apr_pstrcat(todo_test_pool, "keys/", keyfile, NULL), &keylen);
    }
    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grants_json(jwt, claims_json), 0);
    if (kid) {
        assert_int_equal(jwt_add_header(jwt, "kid", kid), 0);
    }
    assert_int_equal(jwt_set_alg(jwt, alg, key, (int)keylen), 0);
    s = jwt_encode_str(jwt);
    assert_non_null(s);
    copy = apr_pstrdup(todo_test_pool, s);
    free(s);
    jwt_free(jwt);
    return copy;
}

static todo_jwt_policy_t policy(void)
{
    todo_jwt_policy_t p = { ALL_ALGS, NULL, NULL, 0, "sub" };

    return p;
}

static todo_jwt_status_e verify_at(const char *token, const todo_keys_t *ks,
                                   const todo_jwt_policy_t *pol,
                                   apr_int64_t now, todo_jwt_result_t *res,
                                   const char **reason)
{
    const todo_keys_t *sets[1];
    todo_jwt_result_t dummy;

    sets[0] = ks;
    return todo_jwt_verify(todo_test_pool, token, strlen(token), pol, sets, 1,
                           now, res ? res : &dummy, reason);
}

/* Accepted with the given policy at the given time. */
static void ok_p(const char *token, const todo_keys_t *ks,
                 const todo_jwt_policy_t *pol, apr_int64_t now)
{
    const char *reason = NULL;
    todo_jwt_status_e st = verify_at(token, ks, pol, now, NULL, &reason);

    if (st != TODO_JWT_OK) {
        fail_msg("rejected (%s): %s", reason ? reason : "?", token);
    }
}

static void ok(const char *token, const todo_keys_t *ks)
{
    todo_jwt_policy_t pol = policy();

    ok_p(token, ks, &pol, NOW);
}

/* Rejected as INVALID with exactly the reason `why`. */
static void bad_p(const char *token, const todo_keys_t *ks,
                  const todo_jwt_policy_t *pol, apr_int64_t now,
                  const char *why)
{
    const char *reason = NULL;
    todo_jwt_status_e st = verify_at(token, ks, pol, now, NULL, &reason);

    if (st != TODO_JWT_INVALID) {
        fail_msg("expected INVALID (%s), got %d: %s", why, st, token);
    }
    assert_non_null(reason);
    assert_string_equal(reason, why);
}

static void bad(const char *token, const todo_keys_t *ks, const char *why)
{
    todo_jwt_policy_t pol = policy();

    bad_p(token, ks, &pol, NOW, why);
}

static void unknown_kid(const char *token, const todo_keys_t *ks)
{
    todo_jwt_policy_t pol = policy();
    const char *reason = NULL;

    assert_int_equal(verify_at(token, ks, &pol, NOW, NULL, &reason),
                     TODO_JWT_UNKNOWN_KID);
    assert_string_equal(reason, "unknown key id");
}

/* token with segment i (0..2) replaced by s */
static const char *replace_segment(const char *token, int i, const char *s)
{
    const char *d1 = strchr(token, '.'), *d2 = strchr(d1 + 1, '.');
    const char *h =
        apr_pstrmemdup(todo_test_pool, token, (apr_size_t)(d1 - token));
    const char *p =
        apr_pstrmemdup(todo_test_pool, d1 + 1, (apr_size_t)(d2 - d1 - 1));
    const char *g = d2 + 1;

    return apr_pstrcat(todo_test_pool, i == 0 ? s : h, ".", i == 1 ? s : p,
                       ".", i == 2 ? s : g, NULL);
}

static const char *segment(const char *token, int i)
{
    const char *start = token, *end;

    while (i-- > 0) {
        start = strchr(start, '.') + 1;
    }
    end = strchr(start, '.');
    return end ? apr_pstrmemdup(todo_test_pool, start,
                                (apr_size_t)(end - start))
               : apr_pstrdup(todo_test_pool, start);
}

static unsigned char *signature_of(const char *token, size_t *len)
{
    const char *s = segment(token, 2);

    return unb64(s, strlen(s), len);
}

/* -------------------------------------------------------- fixtures */

static int group_setup(void **state)
{
    apr_size_t n;
    const char *why;
    static const struct {
        const char *file, *kid;
    } pems[] = { { "rsa2048.pub.pem", "rsa-1" },
                 { "ecp256.pub.pem", "ec256-1" },
                 { "ecp384.pub.pem", "ec384-1" },
                 { "ecp521.pub.pem", "ec521-1" },
                 { "ed25519.pub.pem", "ed-1" } };
    size_t i;
    int added = 0;
    char *doc;

    (void)state;
    ks_secret = todo_keys_make(todo_test_pool);
    assert_null(todo_keys_add_secret(ks_secret, (const unsigned char *)SECRET,
                                     strlen(SECRET), NULL));
    ks_pem = todo_keys_make(todo_test_pool);
    for (i = 0; i < sizeof(pems) / sizeof(pems[0]); i++) {
        char *pem = todo_test_slurp(
            todo_test_pool,
            apr_pstrcat(todo_test_pool, "keys/", pems[i].file, NULL), &n);

        why = todo_keys_add_pem(ks_pem, pem, n, pems[i].kid);
        if (why) {
            fail_msg("%s: %s", pems[i].file, why);
        }
    }
    ks_jwks = todo_keys_make(todo_test_pool);
    doc = todo_test_slurp(
        todo_test_pool,
        apr_pstrcat(todo_test_pool, "keys/", "jwks.json", NULL), &n);
    assert_null(todo_keys_add_jwks(ks_jwks, doc, n, &added));
    assert_int_equal(added, 5);
    ed_priv = load_private("ed25519.key.pem");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ed_priv);
    return 0;
}

/* ---------------------------------------------------- valid tokens */

typedef struct {
    todo_alg_e alg;
    jwt_alg_t jalg;      /* JWT_ALG_NONE: EdDSA, signed here */
    const char *keyfile; /* NULL: the secret */
    const char *kid;     /* the key's kid in ks_pem and ks_jwks */
} alg_case_t;

static const alg_case_t alg_cases[TODO_ALG_COUNT] = {
    { TODO_ALG_HS256, JWT_ALG_HS256, NULL, NULL },
    { TODO_ALG_HS384, JWT_ALG_HS384, NULL, NULL },
    { TODO_ALG_HS512, JWT_ALG_HS512, NULL, NULL },
    { TODO_ALG_RS256, JWT_ALG_RS256, "rsa2048.key.pem", "rsa-1" },
    { TODO_ALG_RS384, JWT_ALG_RS384, "rsa2048.key.pem", "rsa-1" },
    { TODO_ALG_RS512, JWT_ALG_RS512, "rsa2048.key.pem", "rsa-1" },
    { TODO_ALG_ES256, JWT_ALG_ES256, "ecp256.key.pem", "ec256-1" },
    { TODO_ALG_ES384, JWT_ALG_ES384, "ecp384.key.pem", "ec384-1" },
    { TODO_ALG_ES512, JWT_ALG_ES512, "ecp521.key.pem", "ec521-1" },
    { TODO_ALG_EDDSA, JWT_ALG_NONE, "ed25519.key.pem", "ed-1" },
};

static const char *mint_case(const alg_case_t *c, const char *payload,
                             const char *kid)
{
    if (c->jalg == JWT_ALG_NONE) {
        return ed_token(kid, payload);
    }
    return mint(c->jalg, c->keyfile, payload, kid);
}

static void test_valid_alg(void **state)
{
    const alg_case_t *c = *state;
    todo_jwt_policy_t pol = policy();
    todo_jwt_result_t res;
    const char *reason = NULL;
    const char *t = mint_case(c, claims(NOW + 600), c->kid);
    const char *t_nokid = mint_case(c, claims(NOW + 600), NULL);

    if (c->keyfile == NULL) {
        ok(t, ks_secret);
        ok(t_nokid, ks_secret);
    }
    else {
        /* The same key loaded from PEM and from the JWKS. */
        ok(t, ks_pem);
        ok(t, ks_jwks);
        ok(t_nokid, ks_pem);
        ok(t_nokid, ks_jwks);
    }
    memset(&res, 0, sizeof(res));
    assert_int_equal(verify_at(t, c->keyfile ? ks_jwks : ks_secret, &pol, NOW,
                               &res, &reason),
                     TODO_JWT_OK);
    assert_string_equal(res.user, "alice");
    assert_true(res.exp == NOW + 600);
    assert_int_equal(res.alg, c->alg);
    if (c->kid) {
        assert_string_equal(res.kid, c->kid);
    }
    else {
        assert_null(res.kid);
    }

    /* The very same token is refused when the policy leaves its alg out. */
    pol.algs = ALL_ALGS & ~TODO_ALG_BIT(c->alg);
    bad_p(t, c->keyfile ? ks_pem : ks_secret, &pol, NOW,
          "algorithm not allowed");
}

static void test_alg_names(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < TODO_ALG_COUNT; i++) {
        assert_int_equal(todo_keys_alg_from_name(todo_keys_alg_name(i)), i);
    }
    assert_string_equal(todo_keys_alg_name(TODO_ALG_EDDSA), "EdDSA");
    assert_int_equal(todo_keys_alg_from_name("hs256"), -1);
    assert_int_equal(todo_keys_alg_from_name("Hs256"), -1);
    assert_int_equal(todo_keys_alg_from_name("EDDSA"), -1);
    assert_int_equal(todo_keys_alg_from_name("none"), -1);
    assert_int_equal(todo_keys_alg_from_name("PS256"), -1);
    assert_int_equal(todo_keys_alg_from_name("HS256 "), -1);
    assert_int_equal(todo_keys_alg_from_name(""), -1);
    assert_int_equal(todo_keys_alg_from_name(NULL), -1);
    assert_null(todo_keys_alg_name(TODO_ALG_COUNT));
}

static void test_rsa_pkcs1_pem(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    apr_size_t n;
    char *pem = todo_test_slurp(
        todo_test_pool,
        apr_pstrcat(todo_test_pool, "keys/", "rsa2048.rsapub.pem", NULL), &n);

    (void)state;
    assert_null(todo_keys_add_pem(ks, pem, n, NULL));
    ok(mint(JWT_ALG_RS256, "rsa2048.key.pem", claims(NOW + 60), NULL), ks);
    ok(mint(JWT_ALG_RS512, "rsa2048.key.pem", claims(NOW + 60), "x"), ks);
}

/* -------------------------------------------------------------- time */

static void test_exp_boundaries(void **state)
{
    const char *t = mint(JWT_ALG_HS256, NULL, claims(NOW), NULL);
    todo_jwt_policy_t pol = policy();

    (void)state;
    ok_p(t, ks_secret, &pol, NOW - 1);
    bad_p(t, ks_secret, &pol, NOW, "token expired");
    bad_p(t, ks_secret, &pol, NOW + 1, "token expired");
    pol.leeway = 30;
    ok_p(t, ks_secret, &pol, NOW);
    ok_p(t, ks_secret, &pol, NOW + 29);
    bad_p(t, ks_secret, &pol, NOW + 30, "token expired");
    bad_p(t, ks_secret, &pol, NOW + 31, "token expired");
    /* Long expired. */
    bad(mint(JWT_ALG_HS256, NULL, claims(NOW - 86400), NULL), ks_secret,
        "token expired");
}

static void test_exp_types(void **state)
{
    todo_jwt_policy_t pol = policy();
    todo_jwt_result_t res;
    const char *reason;
    const char *far = hsp("{\"sub\":\"alice\",\"exp\":9223372036854775807}");

    (void)state;
    bad(hsp("{\"sub\":\"alice\"}"), ks_secret, "missing exp");
    bad(hsp("{\"sub\":\"alice\",\"exp\":1700000600.5}"), ks_secret,
        "exp is not an integer");
    bad(hsp("{\"sub\":\"alice\",\"exp\":1.5}"), ks_secret,
        "exp is not an integer");
    bad(hsp("{\"sub\":\"alice\",\"exp\":\"1700000600\"}"), ks_secret,
        "exp is not an integer");
    bad(hsp("{\"sub\":\"alice\",\"exp\":1e300}"), ks_secret,
        "exp is not an integer");
    bad(hsp("{\"sub\":\"alice\",\"exp\":true}"), ks_secret,
        "exp is not an integer");
    bad(hsp("{\"sub\":\"alice\",\"exp\":null}"), ks_secret,
        "exp is not an integer");
    /* Too big for a 64-bit integer: not a number we can reason about. */
    bad(hsp("{\"sub\":\"alice\",\"exp\":99999999999999999999}"), ks_secret,
        "malformed token");
    bad(hsp("{\"sub\":\"alice\",\"exp\":-9223372036854775808}"), ks_secret,
        "token expired");
    /* INT64_MAX is a valid, far-future exp; exp + leeway must not wrap. */
    ok(far, ks_secret);
    pol.leeway = 300;
    ok_p(far, ks_secret, &pol, NOW);
    pol.leeway = 0;
    assert_int_equal(verify_at(far, ks_secret, &pol, NOW, &res, &reason),
                     TODO_JWT_OK);
    assert_true(res.exp == INT64_MAX);
}

static void test_nbf_iat(void **state)
{
    todo_jwt_policy_t pol = policy();
    const char *nbf = hsp("{\"sub\":\"alice\",\"exp\":1700000600,"
                          "\"nbf\":1700000010}");
    const char *iat = hsp("{\"sub\":\"alice\",\"exp\":1700000600,"
                          "\"iat\":1700000010}");

    (void)state;
    bad_p(nbf, ks_secret, &pol, NOW, "token not yet valid");
    bad_p(iat, ks_secret, &pol, NOW, "token issued in the future");
    ok_p(nbf, ks_secret, &pol, NOW + 10);
    ok_p(iat, ks_secret, &pol, NOW + 10);
    pol.leeway = 9;
    bad_p(nbf, ks_secret, &pol, NOW, "token not yet valid");
    bad_p(iat, ks_secret, &pol, NOW, "token issued in the future");
    pol.leeway = 10;
    ok_p(nbf, ks_secret, &pol, NOW);
    ok_p(iat, ks_secret, &pol, NOW);
    /* Extremes neither overflow nor pass. */
    pol.leeway = 300;
    bad_p(hsp("{\"sub\":\"a\",\"exp\":1700000600,"
              "\"nbf\":9223372036854775807}"),
          ks_secret, &pol, NOW, "token not yet valid");
    bad_p(hsp("{\"sub\":\"a\",\"exp\":1700000600,"
              "\"iat\":9223372036854775807}"),
          ks_secret, &pol, NOW, "token issued in the future");
    ok_p(hsp("{\"sub\":\"a\",\"exp\":1700000600,"
             "\"nbf\":-9223372036854775808,\"iat\":-9223372036854775808}"),
         ks_secret, &pol, NOW);
    /* Types. */
    bad(hsp("{\"sub\":\"a\",\"exp\":1700000600,\"nbf\":\"1\"}"), ks_secret,
        "nbf is not an integer");
    bad(hsp("{\"sub\":\"a\",\"exp\":1700000600,\"nbf\":1.0}"), ks_secret,
        "nbf is not an integer");
    bad(hsp("{\"sub\":\"a\",\"exp\":1700000600,\"iat\":1.5}"), ks_secret,
        "iat is not an integer");
    bad(hsp("{\"sub\":\"a\",\"exp\":1700000600,\"iat\":null}"), ks_secret,
        "iat is not an integer");
}

/* ------------------------------------------------------------ shape */

static void test_length(void **state)
{
    char *big = apr_palloc(todo_test_pool, 16 * 1024 + 1);
    const char *t = NULL, *reason = NULL;
    todo_jwt_policy_t pol = policy();
    const todo_keys_t *sets[1] = { ks_secret };
    int pad;

    (void)state;
    assert_int_equal(todo_jwt_verify(todo_test_pool, "", 0, &pol, sets, 1, NOW,
                                     NULL, &reason),
                     TODO_JWT_INVALID);
    assert_string_equal(reason, "malformed token");

    /* 16 KiB of an otherwise valid-looking token. */
    memset(big, 'A', 16 * 1024);
    big[16 * 1024] = '\0';
    big[100] = '.';
    big[200] = '.';
    bad(big, ks_secret, "token too long");

    /* A valid token of exactly TODO_JWT_MAX_TOKEN bytes passes; one more
     * byte is refused before anything else is looked at. */
    for (pad = 6000; pad < 6200 && (t == NULL || strlen(t) != 8192); pad++) {
        char *filler = apr_palloc(todo_test_pool, (apr_size_t)pad + 1);

        memset(filler, 'x', (apr_size_t)pad);
        filler[pad] = '\0';
        t = hsp(apr_psprintf(todo_test_pool,
                             "{\"sub\":\"alice\",\"exp\":1700000600,"
                             "\"pad\":\"%s\"}",
                             filler));
    }
    assert_int_equal(strlen(t), 8192);
    ok(t, ks_secret);
    bad(apr_pstrcat(todo_test_pool, t, "A", NULL), ks_secret,
        "token too long");
}

static void test_segments(void **state)
{
    const char *t = hsp(claims(NOW + 60));
    const char *h = segment(t, 0), *p = segment(t, 1), *s = segment(t, 2);

    (void)state;
    ok(t, ks_secret);
    bad(apr_pstrcat(todo_test_pool, h, ".", p, NULL), ks_secret,
        "malformed token");
    bad(apr_pstrcat(todo_test_pool, t, ".", s, NULL), ks_secret,
        "malformed token");
    bad(apr_pstrcat(todo_test_pool, t, ".", NULL), ks_secret,
        "malformed token");
    bad(apr_pstrcat(todo_test_pool, h, ".", p, ".", NULL), ks_secret,
        "malformed token");
    bad(apr_pstrcat(todo_test_pool, ".", p, ".", s, NULL), ks_secret,
        "malformed token");
    bad(apr_pstrcat(todo_test_pool, h, "..", s, NULL), ks_secret,
        "malformed token");
    bad("..", ks_secret, "malformed token");
    bad(".", ks_secret, "malformed token");
    bad("abc", ks_secret, "malformed token");
    bad(apr_pstrcat(todo_test_pool, "Bearer ", t, NULL), ks_secret,
        "malformed token");
    bad(apr_pstrcat(todo_test_pool, t, " ", NULL), ks_secret,
        "malformed token");
    bad(apr_pstrcat(todo_test_pool, t, "\n", NULL), ks_secret,
        "malformed token");
}

/* Flip one bit of the signature of token and check it is refused. */
static void flip_refused(const char *token, const todo_keys_t *ks)
{
    size_t n;
    unsigned char *sig = signature_of(token, &n);

    ok(token, ks);
    sig[n / 2] ^= 0x01;
    bad(replace_segment(token, 2, todo_test_b64url(todo_test_pool, sig, n)),
        ks, "bad signature");
    sig[n / 2] ^= 0x01;
    sig[n - 1] ^= 0x80;
    bad(replace_segment(token, 2, todo_test_b64url(todo_test_pool, sig, n)),
        ks, "bad signature");
    /* Truncated: one byte short, and half of it. */
    bad(replace_segment(token, 2,
                        todo_test_b64url(todo_test_pool, sig, n - 1)),
        ks, "bad signature");
    bad(replace_segment(token, 2,
                        todo_test_b64url(todo_test_pool, sig, n / 2)),
        ks, "bad signature");
}

static void test_signature_tamper(void **state)
{
    const char *t = hsp(claims(NOW + 60));
    const char *pl = "{\"sub\":\"alice\",\"exp\":1700000060,\"iat\":0}";
    char *evil;

    (void)state;
    flip_refused(t, ks_secret);
    flip_refused(mint(JWT_ALG_HS512, NULL, claims(NOW + 60), NULL), ks_secret);
    flip_refused(
        mint(JWT_ALG_RS256, "rsa2048.key.pem", claims(NOW + 60), "rsa-1"),
        ks_pem);
    flip_refused(
        mint(JWT_ALG_ES256, "ecp256.key.pem", claims(NOW + 60), "ec256-1"),
        ks_pem);
    flip_refused(
        mint(JWT_ALG_ES512, "ecp521.key.pem", claims(NOW + 60), "ec521-1"),
        ks_jwks);
    flip_refused(ed_token("ed-1", claims(NOW + 60)), ks_jwks);

    /* A changed payload under the original signature. */
    t = hsp(pl);
    ok(t, ks_secret);
    evil = apr_pstrdup(todo_test_pool, pl);
    evil[8] = 'b'; /* alice -> blice */
    bad(replace_segment(t, 1, b64s(evil)), ks_secret, "bad signature");
    /* The signature of another token. */
    bad(replace_segment(t, 2, segment(hsp(claims(NOW + 61)), 2)), ks_secret,
        "bad signature");
}

static void test_base64_strict(void **state)
{
    const char *t = hsp(claims(NOW + 60));
    const char *s = segment(t, 2), *h = segment(t, 0);
    char *alias;
    const char *header = NULL, *input, *bad64;
    int i;

    (void)state;
    ok(t, ks_secret);
    /* Padding on any segment. */
    bad(apr_pstrcat(todo_test_pool, t, "=", NULL), ks_secret,
        "malformed token");
    bad(replace_segment(t, 0, apr_pstrcat(todo_test_pool, h, "=", NULL)),
        ks_secret, "malformed token");
    bad(replace_segment(t, 2, apr_pstrcat(todo_test_pool, s, "==", NULL)),
        ks_secret, "malformed token");
    /* A 32-byte HMAC is 43 characters with 2 unused bits: setting them
     * gives another spelling of the same bytes, which must be refused. */
    assert_int_equal(strlen(s), 43);
    alias = apr_pstrdup(todo_test_pool, s);
    alias[42] = (char)(alias[42] + 1); /* low bits are 0 in canonical form */
    bad(replace_segment(t, 2, alias), ks_secret, "malformed token");
    /* A length of 4k+1 cannot be base64. */
    bad(replace_segment(t, 2, apr_pstrcat(todo_test_pool, s, "AA", NULL)),
        ks_secret, "malformed token");
    /* Characters outside the url alphabet. */
    alias = apr_pstrdup(todo_test_pool, s);
    alias[5] = '*';
    bad(replace_segment(t, 2, alias), ks_secret, "malformed token");

    /* '+' and '/' (standard base64) instead of '-' and '_'.  The token is
     * signed over its own text, so only the decoder can catch it.  Find a
     * header whose encoding holds a '-' or '_' ("?>~" are 0x3f 0x3e 0x7e:
     * runs of high 6-bit groups, at one of the three alignments). */
    for (i = 0; i < 3 && header == NULL; i++) {
        const char *cand = apr_psprintf(todo_test_pool,
                                        "{\"alg\":\"HS256\",\"x\":"
                                        "\"%.*s?>~?~>\"}",
                                        i, "~~~");
        const char *enc = b64s(cand);

        if (strchr(enc, '_') || strchr(enc, '-')) {
            header = cand;
        }
    }
    assert_non_null(header);
    input = input_of(header, claims(NOW + 60));
    ok(sign_hmac("SHA256", SECRET, strlen(SECRET), input), ks_secret);
    bad64 = apr_pstrdup(todo_test_pool, input);
    for (alias = (char *)bad64; *alias; alias++) {
        if (*alias == '-') {
            *alias = '+';
        }
        else if (*alias == '_') {
            *alias = '/';
        }
    }
    assert_string_not_equal(bad64, input);
    bad(sign_hmac("SHA256", SECRET, strlen(SECRET), bad64), ks_secret,
        "malformed token");
}

static void test_json_shapes(void **state)
{
    const char *pl = claims(NOW + 60);

    (void)state;
    bad(hs("not json", pl), ks_secret, "malformed token");
    bad(hs("", pl), ks_secret, "malformed token");
    bad(hs("[\"HS256\"]", pl), ks_secret, "malformed token");
    bad(hs("\"HS256\"", pl), ks_secret, "malformed token");
    bad(hs("{\"alg\":\"HS256\"} x", pl), ks_secret, "malformed token");
    /* Duplicate members are ambiguous: which "alg" did the signer mean? */
    bad(hs("{\"alg\":\"HS256\",\"alg\":\"none\"}", pl), ks_secret,
        "malformed token");
    bad(hsp("not json"), ks_secret, "malformed token");
    bad(hsp("[{\"sub\":\"alice\",\"exp\":1700000600}]"), ks_secret,
        "malformed token");
    bad(hsp("\"alice\""), ks_secret, "malformed token");
    bad(hsp("1700000600"), ks_secret, "malformed token");
    bad(hsp("{\"sub\":\"alice\",\"sub\":\"bob\",\"exp\":1700000600}"),
        ks_secret, "malformed token");
    bad(hsp("{\"sub\":\"alice\",\"exp\":1700000600"), ks_secret,
        "malformed token");
    bad(hsp("{\"sub\":\"al\\u0000ice\",\"exp\":1700000600}"), ks_secret,
        "malformed token");
    ok(hsp("{\"sub\":\"alice\",\"exp\":1700000600}"), ks_secret);
}

static void test_alg_values(void **state)
{
    const char *pl = claims(NOW + 60);
    const char *h = b64s("{\"alg\":\"none\"}");

    (void)state;
    bad(hs("{\"alg\":\"none\"}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":\"None\"}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":\"NONE\"}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":\"hs256\"}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":\"Hs256\"}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":\"HS256 \"}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":\"PS256\"}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":\"\"}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":256}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":null}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"alg\":[\"HS256\"]}", pl), ks_secret, "unsupported algorithm");
    bad(hs("{\"typ\":\"JWT\"}", pl), ks_secret, "missing alg");
    bad(hs("{}", pl), ks_secret, "missing alg");
    /* The classic unsigned token, with an empty or a made-up signature. */
    bad(apr_pstrcat(todo_test_pool, h, ".", b64s(pl), ".", NULL), ks_secret,
        "malformed token");
    bad(apr_pstrcat(todo_test_pool, h, ".", b64s(pl), ".AAAA", NULL),
        ks_secret, "unsupported algorithm");
}

static void test_alg_not_in_policy(void **state)
{
    todo_jwt_policy_t pol = policy();
    const char *rs =
        mint(JWT_ALG_RS256, "rsa2048.key.pem", claims(NOW + 60), "rsa-1");

    (void)state;
    pol.algs = TODO_ALG_BIT(TODO_ALG_HS256);
    bad_p(rs, ks_pem, &pol, NOW, "algorithm not allowed");
    bad_p(mint(JWT_ALG_HS512, NULL, claims(NOW + 60), NULL), ks_secret, &pol,
          NOW, "algorithm not allowed");
    ok_p(mint(JWT_ALG_HS256, NULL, claims(NOW + 60), NULL), ks_secret, &pol,
         NOW);
    pol.algs = 0;
    bad_p(mint(JWT_ALG_HS256, NULL, claims(NOW + 60), NULL), ks_secret, &pol,
          NOW, "algorithm not allowed");
}

/* HS256 "signed" with the public key text as HMAC secret: a verifier that
 * picks the key by file and the algorithm from the token would accept it. */
static void test_alg_confusion(void **state)
{
    static const char *const files[] = { "rsa2048.pub.pem",
                                         "rsa2048.rsapub.pem",
                                         "ecp256.pub.pem", "ed25519.pub.pem" };
    const todo_keys_t *both[2] = { ks_pem, ks_secret };
    todo_jwt_policy_t pol = policy();
    const char *input = input_of(HS256_HEADER, claims(NOW + 60));
    const char *input_kid =
        input_of("{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", claims(NOW + 60));
    const char *reason;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        apr_size_t n;
        char *pem = todo_test_slurp(
            todo_test_pool,
            apr_pstrcat(todo_test_pool, "keys/", files[i], NULL), &n);
        const char *t = sign_hmac("SHA256", pem, n, input);
        const char *tk = sign_hmac("SHA256", pem, n, input_kid);
        todo_jwt_result_t res;

        bad(t, ks_pem, "no key for algorithm");
        bad(t, ks_jwks, "no key for algorithm");
        /* With a kid, still no HMAC key: not OK either way. */
        assert_int_not_equal(verify_at(tk, ks_pem, &pol, NOW, NULL, &reason),
                             TODO_JWT_OK);
        /* Next to a real secret, the forged MAC simply does not verify. */
        assert_int_equal(todo_jwt_verify(todo_test_pool, t, strlen(t), &pol,
                                         both, 2, NOW, &res, &reason),
                         TODO_JWT_INVALID);
        assert_string_equal(reason, "bad signature");
        /* Also without the trailing newline of the file. */
        bad(sign_hmac("SHA256", pem, n - 1, input), ks_pem,
            "no key for algorithm");
    }
}

static void test_wrong_secret(void **state)
{
    const char *other = "another secret of at least 32 bytes!!";
    const char *t = sign_hmac("SHA256", other, strlen(other),
                              input_of(HS256_HEADER, claims(NOW + 60)));
    const char *t384 = mint(JWT_ALG_HS384, NULL, claims(NOW + 60), NULL);
    size_t n;
    unsigned char *sig = signature_of(t384, &n);

    (void)state;
    bad(t, ks_secret, "bad signature");
    /* An HS384 MAC cut to HS256 length is not an HS384 MAC. */
    assert_int_equal(n, 48);
    bad(replace_segment(t384, 2, todo_test_b64url(todo_test_pool, sig, 32)),
        ks_secret, "bad signature");
    /* HS256 computed with the right secret but labelled HS512. */
    bad(sign_hmac("SHA256", SECRET, strlen(SECRET),
                  input_of("{\"alg\":\"HS512\"}", claims(NOW + 60))),
        ks_secret, "bad signature");
}

/* ------------------------------------------------------------ claims */

static void test_issuer_audience(void **state)
{
    todo_jwt_policy_t pol = policy();
    const char *base = "\"sub\":\"alice\",\"exp\":1700000600";

#define P(extra) hsp(apr_psprintf(todo_test_pool, "{%s%s}", base, extra))
    (void)state;
    pol.issuer = "https://auth.example.com";
    ok_p(P(",\"iss\":\"https://auth.example.com\""), ks_secret, &pol, NOW);
    bad_p(P(",\"iss\":\"https://evil.example.com\""), ks_secret, &pol, NOW,
          "issuer mismatch");
    bad_p(P(",\"iss\":\"https://auth.example.com/\""), ks_secret, &pol, NOW,
          "issuer mismatch");
    bad_p(P(""), ks_secret, &pol, NOW, "issuer mismatch");
    bad_p(P(",\"iss\":[\"https://auth.example.com\"]"), ks_secret, &pol, NOW,
          "issuer mismatch");
    bad_p(P(",\"iss\":null"), ks_secret, &pol, NOW, "issuer mismatch");
    /* Not configured: not checked. */
    ok(P(",\"iss\":\"whoever\""), ks_secret);

    pol.issuer = NULL;
    pol.audience = "todo-api";
    ok_p(P(",\"aud\":\"todo-api\""), ks_secret, &pol, NOW);
    ok_p(P(",\"aud\":[\"other\",\"todo-api\"]"), ks_secret, &pol, NOW);
    ok_p(P(",\"aud\":[\"todo-api\"]"), ks_secret, &pol, NOW);
    bad_p(P(",\"aud\":\"other\""), ks_secret, &pol, NOW, "audience mismatch");
    bad_p(P(",\"aud\":\"todo-api2\""), ks_secret, &pol, NOW,
          "audience mismatch");
    bad_p(P(",\"aud\":[\"other\",\"more\"]"), ks_secret, &pol, NOW,
          "audience mismatch");
    bad_p(P(",\"aud\":[]"), ks_secret, &pol, NOW, "audience mismatch");
    bad_p(P(",\"aud\":[[\"todo-api\"]]"), ks_secret, &pol, NOW,
          "audience mismatch");
    bad_p(P(",\"aud\":{\"todo-api\":1}"), ks_secret, &pol, NOW,
          "audience mismatch");
    bad_p(P(""), ks_secret, &pol, NOW, "audience mismatch");
    ok(P(",\"aud\":\"other\""), ks_secret);
#undef P
}

static void test_user_claim(void **state)
{
    todo_jwt_policy_t pol = policy();
    todo_jwt_result_t res;
    const char *reason = NULL;
    char u255[256], u256[257], u300[301];

    (void)state;
    memset(u255, 'u', 255);
    u255[255] = '\0';
    memset(u256, 'u', 256);
    u256[256] = '\0';
    memset(u300, 'u', 300);
    u300[300] = '\0';
#define P(sub) hsp(apr_psprintf(todo_test_pool, "{\"exp\":1700000600%s}", sub))
    bad(P(""), ks_secret, "missing user claim");
    bad(P(",\"sub\":\"\""), ks_secret, "invalid user claim");
    bad(P(",\"sub\":42"), ks_secret, "invalid user claim");
    bad(P(",\"sub\":null"), ks_secret, "invalid user claim");
    bad(P(",\"sub\":[\"alice\"]"), ks_secret, "invalid user claim");
    bad(P(apr_psprintf(todo_test_pool, ",\"sub\":\"%s\"", u300)), ks_secret,
        "invalid user claim");
    bad(P(apr_psprintf(todo_test_pool, ",\"sub\":\"%s\"", u256)), ks_secret,
        "invalid user claim");
    bad(P(",\"sub\":\"ali\\nce\""), ks_secret, "invalid user claim");
    bad(P(",\"sub\":\"ali\\tce\""), ks_secret, "invalid user claim");
    bad(P(",\"sub\":\"alice\\u007f\""), ks_secret, "invalid user claim");
    ok(P(apr_psprintf(todo_test_pool, ",\"sub\":\"%s\"", u255)), ks_secret);
    assert_int_equal(verify_at(P(",\"sub\":\"J\\u00f6rg \\u2603\""), ks_secret,
                               &pol, NOW, &res, &reason),
                     TODO_JWT_OK);
    assert_string_equal(res.user, "J\xc3\xb6rg \xe2\x98\x83");

    /* Another claim names the user. */
    pol.user_claim = "email";
    assert_int_equal(verify_at(P(",\"sub\":\"x\",\"email\":\"a@example.com\""),
                               ks_secret, &pol, NOW, &res, &reason),
                     TODO_JWT_OK);
    assert_string_equal(res.user, "a@example.com");
    bad_p(P(",\"sub\":\"alice\""), ks_secret, &pol, NOW, "missing user claim");
    /* Reasons never echo claim values. */
    assert_int_equal(verify_at(P(",\"email\":\"secret-user\\n\""), ks_secret,
                               &pol, NOW, &res, &reason),
                     TODO_JWT_INVALID);
    assert_null(strstr(reason, "secret-user"));
#undef P
}

/* -------------------------------------------------------------- keys */

static void test_kid(void **state)
{
    const char *pl = claims(NOW + 60);
    char kid256[257], kid257[258];
    todo_keys_t *two = todo_keys_make(todo_test_pool);
    const char *s2 = "a second secret, also 32 bytes long";

    (void)state;
    memset(kid256, 'k', 256);
    kid256[256] = '\0';
    memset(kid257, 'k', 257);
    kid257[257] = '\0';
    /* Unknown kids: the caller may refetch its JWKS. */
    unknown_kid(mint(JWT_ALG_RS256, "rsa2048.key.pem", pl, "rsa-2"), ks_pem);
    unknown_kid(ed_token("nope", pl), ks_jwks);
    unknown_kid(ed_token("../../etc/passwd", pl), ks_jwks);
    bad(ed_token("ed-1\\u0000", pl), ks_jwks, "malformed token");
    /* A kid of the right key but of another algorithm family. */
    unknown_kid(ed_token("rsa-1", pl), ks_jwks);
    /* Invalid kids. */
    bad(hs("{\"alg\":\"HS256\",\"kid\":\"\"}", pl), ks_secret,
        "invalid key id");
    bad(hs(apr_psprintf(todo_test_pool, "{\"alg\":\"HS256\",\"kid\":\"%s\"}",
                        kid257),
           pl),
        ks_secret, "invalid key id");
    bad(hs("{\"alg\":\"HS256\",\"kid\":7}", pl), ks_secret, "invalid key id");
    bad(hs("{\"alg\":\"HS256\",\"kid\":null}", pl), ks_secret,
        "invalid key id");
    /* A key without kid matches any kid. */
    ok(hs(apr_psprintf(todo_test_pool, "{\"alg\":\"HS256\",\"kid\":\"%s\"}",
                       kid256),
          pl),
       ks_secret);
    ok(hs("{\"alg\":\"HS256\",\"kid\":\"whatever\"}", pl), ks_secret);
    /* A token without kid is tried against every key of its algorithm. */
    ok(ed_token(NULL, pl), ks_jwks);
    /* Keys with kids are chosen by kid. */
    assert_null(todo_keys_add_secret(two, (const unsigned char *)SECRET,
                                     strlen(SECRET), "one"));
    assert_null(todo_keys_add_secret(two, (const unsigned char *)s2,
                                     strlen(s2), "two"));
    ok(hs("{\"alg\":\"HS256\",\"kid\":\"one\"}", pl), two);
    bad(hs("{\"alg\":\"HS256\",\"kid\":\"two\"}", pl), two, "bad signature");
    unknown_kid(hs("{\"alg\":\"HS256\",\"kid\":\"three\"}", pl), two);
    ok(sign_hmac("SHA256", s2, strlen(s2),
                 input_of("{\"alg\":\"HS256\",\"kid\":\"two\"}", pl)),
       two);
    ok(sign_hmac("SHA256", s2, strlen(s2), input_of(HS256_HEADER, pl)), two);
}

static void test_keyset_list(void **state)
{
    const char *s2 = "a second secret, also 32 bytes long";
    const char *t = sign_hmac("SHA256", s2, strlen(s2),
                              input_of(HS256_HEADER, claims(NOW + 60)));
    todo_keys_t *second = todo_keys_make(todo_test_pool);
    const todo_keys_t *sets[4] = { NULL, ks_pem, ks_secret, NULL };
    todo_jwt_policy_t pol = policy();
    todo_jwt_result_t res;
    const char *reason = NULL;

    (void)state;
    assert_null(todo_keys_add_secret(second, (const unsigned char *)s2,
                                     strlen(s2), NULL));
    assert_int_equal(todo_jwt_verify(todo_test_pool, t, strlen(t), &pol, sets,
                                     4, NOW, &res, &reason),
                     TODO_JWT_INVALID);
    assert_string_equal(reason, "bad signature");
    sets[3] = second;
    assert_int_equal(todo_jwt_verify(todo_test_pool, t, strlen(t), &pol, sets,
                                     4, NOW, &res, &reason),
                     TODO_JWT_OK);
    assert_string_equal(res.user, "alice");
    /* No key set at all. */
    assert_int_equal(todo_jwt_verify(todo_test_pool, t, strlen(t), &pol, NULL,
                                     0, NOW, &res, &reason),
                     TODO_JWT_INVALID);
    assert_string_equal(reason, "no key for algorithm");
}

static void test_crit_and_ignored_headers(void **state)
{
    const char *pl = claims(NOW + 60);
    EVP_PKEY *evil = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    unsigned char raw[32];
    size_t rawlen = sizeof(raw);
    const char *jwk, *h;

    (void)state;
    bad(hs("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", pl), ks_secret,
        "unsupported critical header");
    bad(hs("{\"alg\":\"HS256\",\"crit\":[]}", pl), ks_secret,
        "unsupported critical header");
    bad(hs("{\"alg\":\"HS256\",\"b64\":false,\"crit\":[\"b64\"]}", pl),
        ks_secret, "unsupported critical header");
    /* Unknown members are ignored; typ may name a JWT or access token. */
    ok(hs("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"foo\":{\"bar\":1}}", pl),
       ks_secret);
    ok(hs("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", pl), ks_secret);
    ok(hs("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", pl), ks_secret);
    ok(hs("{\"alg\":\"HS256\",\"typ\":\"application/at+jwt\"}", pl),
       ks_secret);
    /* Other token types signed with the same keys are not access tokens
     * (Better Auth's session cookie cache, an ID token by mistake...). */
    bad(hs("{\"alg\":\"HS256\",\"typ\":\"better-auth.session-cache+jwt\"}",
           pl),
        ks_secret, "not an access token (typ)");
    bad(hs("{\"alg\":\"HS256\",\"typ\":\"dpop+jwt\"}", pl), ks_secret,
        "not an access token (typ)");
    bad(hs("{\"alg\":\"HS256\",\"typ\":7}", pl), ks_secret,
        "not an access token (typ)");
    /* A key embedded in the header, or pointed to by URL, is never used:
     * the token is signed by the attacker's own key. */
    assert_non_null(evil);
    assert_int_equal(EVP_PKEY_get_raw_public_key(evil, raw, &rawlen), 1);
    jwk = apr_psprintf(todo_test_pool,
                       "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                       "\"x\":\"%s\"}",
                       todo_test_b64url(todo_test_pool, raw, rawlen));
    h = apr_psprintf(todo_test_pool,
                     "{\"alg\":\"EdDSA\",\"jwk\":%s,"
                     "\"jku\":\"http://127.0.0.1:1/jwks\","
                     "\"x5u\":\"http://127.0.0.1:1/x5u\"}",
                     jwk);
    bad(todo_test_sign_ed25519(todo_test_pool, evil, input_of(h, pl)), ks_jwks,
        "bad signature");
    /* The same header signed by the real key verifies: ignored, not
     * refused. */
    ok(todo_test_sign_ed25519(todo_test_pool, ed_priv, input_of(h, pl)),
       ks_jwks);
    EVP_PKEY_free(evil);
}

/* Re-encode an ES signature (raw R||S) in other shapes. */
static void test_ecdsa_shapes(void **state)
{
    const char *t =
        mint(JWT_ALG_ES256, "ecp256.key.pem", claims(NOW + 60), NULL);
    const char *t384 =
        mint(JWT_ALG_ES384, "ecp384.key.pem", claims(NOW + 60), NULL);
    todo_keys_t *only384 = todo_keys_make(todo_test_pool);
    size_t n;
    unsigned char *sig = signature_of(t, &n), *der = NULL, *longer;
    ECDSA_SIG *es = ECDSA_SIG_new();
    int derlen;
    apr_size_t plen;
    char *pem = todo_test_slurp(
        todo_test_pool,
        apr_pstrcat(todo_test_pool, "keys/", "ecp384.pub.pem", NULL), &plen);

    (void)state;
    assert_int_equal(n, 64);
    ok(t, ks_pem);
    /* Wrong lengths. */
    bad(replace_segment(t, 2, todo_test_b64url(todo_test_pool, sig, 63)),
        ks_pem, "bad signature");
    longer = apr_palloc(todo_test_pool, 65);
    longer[0] = 0;
    memcpy(longer + 1, sig, 64);
    bad(replace_segment(t, 2, todo_test_b64url(todo_test_pool, longer, 65)),
        ks_pem, "bad signature");
    /* DER, as OpenSSL would emit it: not what JWS specifies. */
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
                   BN_bin2bn(sig + 32, 32, NULL));
    derlen = i2d_ECDSA_SIG(es, &der);
    assert_true(derlen > 0);
    bad(replace_segment(t, 2,
                        todo_test_b64url(todo_test_pool, der, (size_t)derlen)),
        ks_pem, "bad signature");
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    /* R = S = 0. */
    memset(longer, 0, 64);
    bad(replace_segment(t, 2, todo_test_b64url(todo_test_pool, longer, 64)),
        ks_pem, "bad signature");

    /* ES256 against a P-384 key: the key is bound to ES384 only. */
    assert_null(todo_keys_add_pem(only384, pem, plen, "ec384-1"));
    bad(t, only384, "no key for algorithm");
    unknown_kid(
        mint(JWT_ALG_ES256, "ecp256.key.pem", claims(NOW + 60), "ec384-1"),
        only384);
    ok(t384, only384);
    /* A P-384 signature relabelled ES256, against a P-256 key. */
    bad(replace_segment(t384, 0, b64s("{\"alg\":\"ES256\"}")), ks_pem,
        "bad signature");
}

/* ----------------------------------------------------------- loading */

static void test_load_secret(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    const char *why;

    (void)state;
    why = todo_keys_add_secret(ks, (const unsigned char *)SECRET, 31, NULL);
    assert_non_null(why);
    assert_string_equal(why, "secret is 31 bytes; at least 32 are required");
    assert_non_null(
        todo_keys_add_secret(ks, (const unsigned char *)"", 0, NULL));
    assert_int_equal(todo_keys_count(ks), 0);
    assert_false(todo_keys_supports(ks, TODO_ALG_HS256));
    /* Raw bytes, NULs included, are fine. */
    assert_null(todo_keys_add_secret(
        ks,
        (const unsigned char *)"\0\1\2\3\4\5\6\7\0\1\2\3\4\5\6\7"
                               "\0\1\2\3\4\5\6\7\0\1\2\3\4\5\6\7",
        32, NULL));
    assert_int_equal(todo_keys_count(ks), 1);
    assert_true(todo_keys_supports(ks, TODO_ALG_HS256));
    assert_true(todo_keys_supports(ks, TODO_ALG_HS384));
    assert_true(todo_keys_supports(ks, TODO_ALG_HS512));
    assert_false(todo_keys_supports(ks, TODO_ALG_RS256));
    assert_false(todo_keys_supports(ks, TODO_ALG_EDDSA));
    assert_int_equal(todo_keys_count(NULL), 0);
}

static const char *add_pem_file(todo_keys_t *ks, const char *file)
{
    apr_size_t n;
    char *pem = todo_test_slurp(
        todo_test_pool, apr_pstrcat(todo_test_pool, "keys/", file, NULL), &n);

    return todo_keys_add_pem(ks, pem, n, NULL);
}

static void supports_only(const char *file, todo_alg_e a, todo_alg_e b,
                          todo_alg_e c)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    int i;

    assert_null(add_pem_file(ks, file));
    for (i = 0; i < TODO_ALG_COUNT; i++) {
        if (todo_keys_supports(ks, i)
            != (i == (int)a || i == (int)b || i == (int)c)) {
            fail_msg("%s: support of %s is wrong", file,
                     todo_keys_alg_name(i));
        }
    }
}

static void test_load_pem(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    const char *why;
    const char *garbage = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n"
                          "-----END PUBLIC KEY-----\n";
    const char *cert = "-----BEGIN CERTIFICATE-----\nMIIB\n"
                       "-----END CERTIFICATE-----\n";

    (void)state;
    supports_only("rsa2048.pub.pem", TODO_ALG_RS256, TODO_ALG_RS384,
                  TODO_ALG_RS512);
    supports_only("rsa2048.rsapub.pem", TODO_ALG_RS256, TODO_ALG_RS384,
                  TODO_ALG_RS512);
    supports_only("ecp256.pub.pem", TODO_ALG_ES256, TODO_ALG_ES256,
                  TODO_ALG_ES256);
    supports_only("ecp384.pub.pem", TODO_ALG_ES384, TODO_ALG_ES384,
                  TODO_ALG_ES384);
    supports_only("ecp521.pub.pem", TODO_ALG_ES512, TODO_ALG_ES512,
                  TODO_ALG_ES512);
    supports_only("ed25519.pub.pem", TODO_ALG_EDDSA, TODO_ALG_EDDSA,
                  TODO_ALG_EDDSA);

    why = add_pem_file(ks, "rsa1024.pub.pem");
    assert_non_null(why);
    assert_string_equal(why, "RSA key is 1024 bits; at least 2048 are "
                             "required");
    why = add_pem_file(ks, "rsa2048.key.pem");
    assert_non_null(why);
    assert_non_null(strstr(why, "private key"));
    assert_non_null(add_pem_file(ks, "ed25519.key.pem"));
    assert_non_null(add_pem_file(ks, "ecp256.key.pem"));
    assert_non_null(add_pem_file(ks, "rsa1024.key.pem"));
    why = add_pem_file(ks, "secp256k1.pub.pem");
    assert_non_null(why);
    assert_string_equal(why, "unsupported key type");
    assert_string_equal(add_pem_file(ks, "x25519.pub.pem"),
                        "unsupported key type");
    assert_string_equal(todo_keys_add_pem(ks, garbage, strlen(garbage), NULL),
                        "not a PEM public key");
    assert_string_equal(todo_keys_add_pem(ks, cert, strlen(cert), NULL),
                        "not a PEM public key");
    assert_string_equal(todo_keys_add_pem(ks, "hello", 5, NULL),
                        "not a PEM public key");
    assert_string_equal(todo_keys_add_pem(ks, "", 0, NULL),
                        "not a PEM public key");
    /* The JWKS document is not a PEM either. */
    assert_non_null(add_pem_file(ks, "jwks.json"));
    assert_int_equal(todo_keys_count(ks), 0);
}

/* One JWK object of jwks.json (by kid), as a fresh copy. */
static json_t *jwk_of(const char *kid)
{
    apr_size_t n;
    char *doc = todo_test_slurp(
        todo_test_pool,
        apr_pstrcat(todo_test_pool, "keys/", "jwks.json", NULL), &n);
    json_t *j = json_loadb(doc, n, 0, NULL), *k, *copy = NULL;
    size_t i;

    assert_non_null(j);
    json_array_foreach(
        json_object_get(j, "keys"), i,
        k) if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0)
    {
        copy = json_deep_copy(k);
    }
    json_decref(j);
    assert_non_null(copy);
    return copy;
}

/* Load {"keys":[k1, k2...]} (references to the keys are stolen). */
static const char *load_jwks(todo_keys_t *ks, int *added, ...)
{
    json_t *doc = json_object(), *keys = json_array(), *k;
    char *text;
    const char *why;
    va_list ap;

    va_start(ap, added);
    while ((k = va_arg(ap, json_t *)) != NULL) {
        json_array_append_new(keys, k);
    }
    va_end(ap);
    json_object_set_new(doc, "keys", keys);
    text = json_dumps(doc, JSON_COMPACT);
    why = todo_keys_add_jwks(ks, text, strlen(text), added);
    free(text);
    json_decref(doc);
    return why;
}

static const char *jwks_text(todo_keys_t *ks, const char *text, int *added)
{
    return todo_keys_add_jwks(ks, text, strlen(text), added);
}

static json_t *with(json_t *k, const char *name, json_t *v)
{
    json_object_set_new(k, name, v);
    return k;
}

static void test_load_jwks(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    int added = -1;
    const char *why;
    json_t *ops;

    (void)state;
    assert_int_equal(todo_keys_count(ks_jwks), 5);
    assert_string_equal(jwks_text(ks, "nope", &added),
                        "JWKS is not valid JSON");
    assert_int_equal(added, 0);
    assert_non_null(jwks_text(ks, "[]", NULL));
    assert_non_null(jwks_text(ks, "{\"keys\":{}}", NULL));
    assert_non_null(jwks_text(ks, "{}", NULL));
    why = jwks_text(ks, "{\"keys\":[]}", &added);
    assert_string_equal(why, "JWKS holds no usable signature key");
    assert_non_null(jwks_text(ks, "{\"keys\":[1,\"x\",null]}", NULL));

    /* Nothing usable: encryption keys, unsupported types and curves. */
    ops = json_pack("[s]", "encrypt");
    why =
        load_jwks(ks, &added, with(jwk_of("rsa-1"), "use", json_string("enc")),
                  with(jwk_of("rsa-1"), "alg", json_string("RSA-OAEP")),
                  with(jwk_of("ec256-1"), "key_ops", ops),
                  with(jwk_of("ec256-1"), "crv", json_string("secp256k1")),
                  with(jwk_of("ed-1"), "crv", json_string("X25519")),
                  with(jwk_of("ed-1"), "crv", json_string("Ed448")),
                  with(jwk_of("ed-1"), "kty", json_string("oct")),
                  with(jwk_of("ed-1"), "kty", json_null()),
                  with(jwk_of("ed-1"), "kid", json_integer(1)),
                  with(jwk_of("ed-1"), "kid", json_string("")),
                  with(jwk_of("ed-1"), "alg", json_integer(1)),
                  with(jwk_of("rsa-1"), "use", json_integer(1)),
                  json_pack("{s:s,s:s}", "kty", "oct", "k", "c2VjcmV0"), NULL);
    assert_non_null(why);
    assert_string_equal(why, "JWKS holds no usable signature key");
    assert_int_equal(added, 0);
    assert_int_equal(todo_keys_count(ks), 0);

    /* One good key among bad ones; key_ops with "verify" and private
     * members are fine (the private part is not used). */
    ops = json_pack("[s,s]", "sign", "verify");
    assert_null(load_jwks(ks, &added,
                          with(jwk_of("rsa-1"), "use", json_string("enc")),
                          with(with(jwk_of("ec256-1"), "key_ops", ops), "d",
                               json_string("AAAA")),
                          NULL));
    assert_int_equal(added, 1);
    assert_int_equal(todo_keys_count(ks), 1);
    ok(mint(JWT_ALG_ES256, "ecp256.key.pem", claims(NOW + 60), "ec256-1"), ks);

    /* Duplicate members make the document invalid. */
    assert_non_null(jwks_text(ks, "{\"keys\":[],\"keys\":[]}", NULL));
}

static json_t *corrupt_member(json_t *k, const char *name, int byte_delta,
                              int drop)
{
    const char *v = json_string_value(json_object_get(k, name));
    size_t n;
    unsigned char *raw = unb64(v, strlen(v), &n);

    raw[n - 1] = (unsigned char)(raw[n - 1] + byte_delta);
    return with(
        k, name,
        json_string(todo_test_b64url(todo_test_pool, raw, n - (size_t)drop)));
}

static void test_jwks_ec_not_on_curve(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    int added = -1;

    (void)state;
    assert_non_null(load_jwks(
        ks, &added, corrupt_member(jwk_of("ec256-1"), "y", 1, 0), NULL));
    assert_non_null(load_jwks(
        ks, &added, corrupt_member(jwk_of("ec384-1"), "x", 1, 0), NULL));
    /* Short coordinates. */
    assert_non_null(load_jwks(
        ks, &added, corrupt_member(jwk_of("ec521-1"), "x", 0, 1), NULL));
    assert_null(load_jwks(ks, &added,
                          corrupt_member(jwk_of("ec256-1"), "y", 1, 0),
                          jwk_of("ec384-1"), NULL));
    assert_int_equal(added, 1);
    unknown_kid(
        mint(JWT_ALG_ES256, "ecp256.key.pem", claims(NOW + 60), "ec256-1"),
        ks);
    ok(mint(JWT_ALG_ES384, "ecp384.key.pem", claims(NOW + 60), "ec384-1"), ks);
}

static void test_jwks_alg_binding(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    todo_keys_t *ks2 = todo_keys_make(todo_test_pool);
    int added = -1;

    (void)state;
    assert_null(load_jwks(
        ks, &added, with(jwk_of("rsa-1"), "alg", json_string("RS256")),
        /* mismatched with the key type: skipped */
        with(jwk_of("ec256-1"), "alg", json_string("ES384")),
        with(jwk_of("ec384-1"), "alg", json_string("RS256")),
        with(jwk_of("ed-1"), "alg", json_string("ES256")),
        with(jwk_of("ec521-1"), "alg", json_string("es512")), NULL));
    assert_int_equal(added, 1);
    assert_true(todo_keys_supports(ks, TODO_ALG_RS256));
    assert_false(todo_keys_supports(ks, TODO_ALG_RS384));
    assert_false(todo_keys_supports(ks, TODO_ALG_ES256));
    assert_false(todo_keys_supports(ks, TODO_ALG_ES384));
    ok(mint(JWT_ALG_RS256, "rsa2048.key.pem", claims(NOW + 60), "rsa-1"), ks);
    unknown_kid(
        mint(JWT_ALG_RS384, "rsa2048.key.pem", claims(NOW + 60), "rsa-1"), ks);
    bad(mint(JWT_ALG_RS384, "rsa2048.key.pem", claims(NOW + 60), NULL), ks,
        "no key for algorithm");

    /* Without "alg" an RSA key serves the whole RS family; with a
     * matching one the others are bound. */
    assert_null(load_jwks(ks2, &added, jwk_of("rsa-1"),
                          with(jwk_of("ec256-1"), "alg", json_string("ES256")),
                          with(jwk_of("ec521-1"), "alg", json_string("ES512")),
                          jwk_of("ed-1"), NULL));
    assert_int_equal(added, 4);
    assert_true(todo_keys_supports(ks2, TODO_ALG_RS512));
    assert_true(todo_keys_supports(ks2, TODO_ALG_ES256));
    assert_true(todo_keys_supports(ks2, TODO_ALG_ES512));
    assert_false(todo_keys_supports(ks2, TODO_ALG_ES384));
    assert_true(todo_keys_supports(ks2, TODO_ALG_EDDSA));
    assert_false(todo_keys_supports(ks2, TODO_ALG_HS256));
    ok(ed_token("ed-1", claims(NOW + 60)), ks2);
}

/* A JWK built here from a PEM, so the test does not rely on jwks.json for
 * the RSA encoding (n, e). */
static json_t *rsa_jwk_from_pem(const char *file, const char *kid)
{
    apr_size_t n;
    char *pem = todo_test_slurp(
        todo_test_pool, apr_pstrcat(todo_test_pool, "keys/", file, NULL), &n);
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIGNUM *bn = NULL, *be = NULL;
    unsigned char nb[1024], eb[16];
    int nl, el;
    json_t *jwk;

    assert_non_null(k);
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &be), 1);
    nl = BN_bn2bin(bn, nb);
    el = BN_bn2bin(be, eb);
    jwk = json_pack("{s:s,s:s,s:s,s:s}", "kty", "RSA", "kid", kid, "n",
                    todo_test_b64url(todo_test_pool, nb, (size_t)nl), "e",
                    todo_test_b64url(todo_test_pool, eb, (size_t)el));
    BN_free(bn);
    BN_free(be);
    EVP_PKEY_free(k);
    BIO_free(bio);
    return jwk;
}

static void test_jwks_rsa(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    int added = -1;

    (void)state;
    /* 1024-bit keys are skipped; the 2048-bit one is the same key as the
     * PEM and as jwks.json's. */
    assert_non_null(load_jwks(
        ks, &added, rsa_jwk_from_pem("rsa1024.pub.pem", "small"), NULL));
    assert_null(load_jwks(ks, &added,
                          rsa_jwk_from_pem("rsa1024.pub.pem", "small"),
                          rsa_jwk_from_pem("rsa2048.pub.pem", "big"), NULL));
    assert_int_equal(added, 1);
    ok(mint(JWT_ALG_RS256, "rsa2048.key.pem", claims(NOW + 60), "big"), ks);
    unknown_kid(
        mint(JWT_ALG_RS256, "rsa1024.key.pem", claims(NOW + 60), "small"), ks);
    /* Padded base64 in n is not base64url. */
    assert_non_null(load_jwks(
        ks, &added, with(jwk_of("rsa-1"), "e", json_string("AQAB==")), NULL));
}

/* The test RSA key's modulus with public exponent e, as a PEM. */
static const char *rsa_pem_with_e(unsigned long e)
{
    apr_size_t n;
    char *pem = todo_test_slurp(
        todo_test_pool,
        apr_pstrcat(todo_test_pool, "keys/", "rsa2048.pub.pem", NULL), &n);
    BIO *in = BIO_new_mem_buf(pem, (int)n), *out = BIO_new(BIO_s_mem());
    EVP_PKEY *k = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL), *k2 = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    BIGNUM *bn = NULL, *be = BN_new();
    char *data;
    long len;
    const char *copy;

    assert_non_null(k);
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
    assert_int_equal(BN_set_word(be, e), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn),
                     1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be),
                     1);
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_non_null(params);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &k2, EVP_PKEY_PUBLIC_KEY, params),
                     1);
    assert_int_equal(PEM_write_bio_PUBKEY(out, k2), 1);
    len = BIO_get_mem_data(out, &data);
    copy = apr_pstrmemdup(todo_test_pool, data, (apr_size_t)len);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn);
    BN_free(be);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    BIO_free(in);
    BIO_free(out);
    return copy;
}

/* An RS256 token whose "signature" is its own PKCS#1 v1.5 encoded message
 * (EMSA-PKCS1-v1_5, SHA-256, 2048 bits): under e = 1 it verifies, and
 * anybody can make one. */
static const char *forge_rs256_e1(const char *payload)
{
    static const unsigned char info[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06,
                                            0x09, 0x60, 0x86, 0x48, 0x01,
                                            0x65, 0x03, 0x04, 0x02, 0x01,
                                            0x05, 0x00, 0x04, 0x20 };
    const char *in = input_of("{\"alg\":\"RS256\"}", payload);
    unsigned char em[256];

    memset(em, 0xff, sizeof(em));
    em[0] = 0x00;
    em[1] = 0x01;
    em[256 - 32 - 19 - 1] = 0x00;
    memcpy(em + 256 - 32 - 19, info, sizeof(info));
    assert_int_equal(
        EVP_Digest(in, strlen(in), em + 256 - 32, NULL, EVP_sha256(), NULL),
        1);
    return apr_pstrcat(todo_test_pool, in, ".",
                       todo_test_b64url(todo_test_pool, em, sizeof(em)), NULL);
}

/* RSA keys pass OpenSSL's public key check: with e = 1 every message is
 * its own signature, so such a key (PEM or JWK) must never load. */
static void test_rsa_public_check(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    const char *bad_rsa = "RSA public key is invalid (bad exponent or "
                          "modulus)";
    const char *pem;
    int added = -1;

    (void)state;
    pem = rsa_pem_with_e(1);
    assert_string_equal(todo_keys_add_pem(ks, pem, strlen(pem), NULL),
                        bad_rsa);
    pem = rsa_pem_with_e(65536);
    assert_string_equal(todo_keys_add_pem(ks, pem, strlen(pem), NULL),
                        bad_rsa);
    assert_int_equal(todo_keys_count(ks), 0);
    /* The same in a JWKS: e = 1 ("AQ"), e = 2 ("Ag"), e = 0 ("AA"). */
    assert_string_equal(
        load_jwks(ks, &added, with(jwk_of("rsa-1"), "e", json_string("AQ")),
                  NULL),
        "JWKS holds no usable signature key");
    assert_non_null(load_jwks(
        ks, &added, with(jwk_of("rsa-1"), "e", json_string("Ag")), NULL));
    assert_non_null(load_jwks(
        ks, &added, with(jwk_of("rsa-1"), "e", json_string("AA")), NULL));
    assert_int_equal(todo_keys_count(ks), 0);
    /* Next to a sound key, the bad one is skipped. */
    assert_null(load_jwks(ks, &added,
                          with(jwk_of("rsa-1"), "e", json_string("AQ")),
                          jwk_of("ed-1"), NULL));
    assert_int_equal(added, 1);
    assert_false(todo_keys_supports(ks, TODO_ALG_RS256));
    /* The forgery e = 1 would let through gets nowhere. */
    bad(forge_rs256_e1(claims(NOW + 60)), ks, "no key for algorithm");
    bad(forge_rs256_e1(claims(NOW + 60)), ks_pem, "bad signature");
    /* Small odd exponents other than 1 are RSA still (e = 3). */
    pem = rsa_pem_with_e(3);
    assert_null(todo_keys_add_pem(ks, pem, strlen(pem), NULL));
    assert_true(todo_keys_supports(ks, TODO_ALG_RS256));
}

/* Public key material is no HMAC secret: with a PEM or a JWKS as the
 * "secret", anybody holding the public key signs HS256 tokens. */
static void test_secret_not_a_key(void **state)
{
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    static const char *const files[] = {
        "rsa2048.pub.pem", "rsa2048.rsapub.pem", "ecp256.pub.pem",
        "ed25519.pub.pem", "ed25519.key.pem",    "jwks.json"
    };
    const char *why, *jwk;
    char *text;
    json_t *obj;
    apr_size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        text = todo_test_slurp(
            todo_test_pool,
            apr_pstrcat(todo_test_pool, "keys/", files[i], NULL), &n);
        why = todo_keys_add_secret(ks, (const unsigned char *)text, n, NULL);
        if (why == NULL) {
            fail_msg("%s was taken for a secret", files[i]);
        }
        assert_non_null(strstr(why, "no secret"));
    }
    /* One JWK, with leading white space. */
    obj = jwk_of("rsa-1");
    text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    jwk = apr_pstrcat(todo_test_pool, " \n", text, NULL);
    free(text);
    why = todo_keys_add_secret(ks, (const unsigned char *)jwk, strlen(jwk),
                               NULL);
    assert_non_null(why);
    assert_non_null(strstr(why, "JWK"));
    assert_int_equal(todo_keys_count(ks), 0);
    /* Secrets that merely resemble such text are secrets. */
    jwk = "a \"kty\" secret that does not open a JSON object";
    assert_null(todo_keys_add_secret(ks, (const unsigned char *)jwk,
                                     strlen(jwk), NULL));
    jwk = "{\"a\":\"JSON-looking, but without a key type\"}";
    assert_null(todo_keys_add_secret(ks, (const unsigned char *)jwk,
                                     strlen(jwk), NULL));
    assert_int_equal(todo_keys_count(ks), 2);
}

/* Which failures more keys could have cured: the caller with a JWKS URL
 * that never answered says 503 for those, 401 for the rest. */
static void test_reason_needs_keys(void **state)
{
    todo_jwt_policy_t pol = policy();
    todo_keys_t *empty = todo_keys_make(todo_test_pool);
    const char *ed = ed_token(NULL, claims(NOW + 60));
    const char *reason;
    todo_jwt_result_t res;
    size_t n;
    unsigned char *sig;

    (void)state;
    /* For want of a key; the header's algorithm is reported. */
    assert_int_equal(verify_at(ed, empty, &pol, NOW, &res, &reason),
                     TODO_JWT_INVALID);
    assert_true(todo_jwt_reason_needs_keys(reason));
    assert_int_equal(res.alg, TODO_ALG_EDDSA);
    assert_null(res.user);
    assert_int_equal(verify_at(ed_token("k9", claims(NOW + 60)), ks_secret,
                               &pol, NOW, NULL, &reason),
                     TODO_JWT_UNKNOWN_KID);
    assert_true(todo_jwt_reason_needs_keys(reason));
    sig = signature_of(ed, &n);
    sig[0] ^= 1;
    verify_at(replace_segment(ed, 2, todo_test_b64url(todo_test_pool, sig, n)),
              ks_pem, &pol, NOW, NULL, &reason);
    assert_string_equal(reason, "bad signature");
    assert_true(todo_jwt_reason_needs_keys(reason));
    /* Final whatever the keys. */
    verify_at("not.a.token!", ks_pem, &pol, NOW, &res, &reason);
    assert_false(todo_jwt_reason_needs_keys(reason));
    assert_int_equal(res.alg, TODO_ALG_COUNT);
    verify_at(hsp(claims(NOW - 60)), ks_secret, &pol, NOW, &res, &reason);
    assert_string_equal(reason, "token expired");
    assert_false(todo_jwt_reason_needs_keys(reason));
    assert_int_equal(res.alg, TODO_ALG_HS256);
    assert_null(res.user);
    pol.algs = TODO_ALG_BIT(TODO_ALG_EDDSA);
    verify_at(hsp(claims(NOW + 60)), ks_secret, &pol, NOW, &res, &reason);
    assert_string_equal(reason, "algorithm not allowed");
    assert_false(todo_jwt_reason_needs_keys(reason));
    assert_int_equal(res.alg, TODO_ALG_COUNT);
    assert_false(todo_jwt_reason_needs_keys(NULL));
    assert_false(todo_jwt_reason_needs_keys(""));
}

/* Reasons fall into the metrics' fixed classes, never "other" for a
 * reason todo_jwt_verify gives. */
static void test_reason_class(void **state)
{
    todo_jwt_policy_t pol = policy();
    const char *ed = ed_token(NULL, claims(NOW + 60));
    const char *reason;
    size_t n;
    unsigned char *sig;

    (void)state;
    verify_at("not.a.token!", ks_pem, &pol, NOW, NULL, &reason);
    assert_int_equal(todo_jwt_reason_class(reason), TODO_AUTHF_MALFORMED);
    verify_at(hsp(claims(NOW - 60)), ks_secret, &pol, NOW, NULL, &reason);
    assert_int_equal(todo_jwt_reason_class(reason), TODO_AUTHF_EXPIRED);
    sig = signature_of(ed, &n);
    sig[0] ^= 1;
    verify_at(replace_segment(ed, 2, todo_test_b64url(todo_test_pool, sig, n)),
              ks_pem, &pol, NOW, NULL, &reason);
    assert_int_equal(todo_jwt_reason_class(reason), TODO_AUTHF_SIGNATURE);
    pol.issuer = "https://issuer.example.com";
    verify_at(hsp(claims(NOW + 60)), ks_secret, &pol, NOW, NULL, &reason);
    assert_string_equal(reason, "issuer mismatch");
    assert_int_equal(todo_jwt_reason_class(reason), TODO_AUTHF_CLAIMS);
    pol = policy();
    pol.algs = TODO_ALG_BIT(TODO_ALG_EDDSA);
    verify_at(hsp(claims(NOW + 60)), ks_secret, &pol, NOW, NULL, &reason);
    assert_int_equal(todo_jwt_reason_class(reason), TODO_AUTHF_ALGORITHM);
    assert_int_equal(todo_jwt_reason_class("something else"),
                     TODO_AUTHF_OTHER);
    assert_int_equal(todo_jwt_reason_class(NULL), TODO_AUTHF_OTHER);
}

/* Failed checks must not leave errors in the thread's OpenSSL queue: in
 * httpd the next reader of that queue may be mod_ssl. */
static void test_error_queue_clean(void **state)
{
    const char *t =
        mint(JWT_ALG_ES256, "ecp256.key.pem", claims(NOW + 60), NULL);
    size_t n;
    unsigned char *sig = signature_of(t, &n);
    todo_keys_t *ks = todo_keys_make(todo_test_pool);
    const char *junk = "-----BEGIN PUBLIC KEY-----\nAAAA\n"
                       "-----END PUBLIC KEY-----\n";
    int added;

    (void)state;
    ERR_clear_error();
    memset(sig, 0xff, n); /* R, S out of range */
    bad(replace_segment(t, 2, todo_test_b64url(todo_test_pool, sig, n)),
        ks_pem, "bad signature");
    bad(replace_segment(
            mint(JWT_ALG_RS256, "rsa2048.key.pem", claims(NOW + 60), NULL), 2,
            todo_test_b64url(todo_test_pool, sig, n)),
        ks_pem, "bad signature");
    assert_non_null(add_pem_file(ks, "rsa1024.pub.pem"));
    assert_non_null(add_pem_file(ks, "x25519.pub.pem"));
    assert_non_null(todo_keys_add_pem(ks, junk, strlen(junk), NULL));
    assert_non_null(load_jwks(
        ks, &added, corrupt_member(jwk_of("ec256-1"), "y", 1, 0), NULL));
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---------------------------------------------------------------- run */

/* One named test per algorithm, sharing test_valid_alg. */
#define ALG_TEST(i, name)                                                     \
    {                                                                         \
        "test_valid_" name, test_valid_alg, NULL, NULL, (void *)&alg_cases[i] \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_names),
        ALG_TEST(0, "HS256"),
        ALG_TEST(1, "HS384"),
        ALG_TEST(2, "HS512"),
        ALG_TEST(3, "RS256"),
        ALG_TEST(4, "RS384"),
        ALG_TEST(5, "RS512"),
        ALG_TEST(6, "ES256"),
        ALG_TEST(7, "ES384"),
        ALG_TEST(8, "ES512"),
        ALG_TEST(9, "EdDSA"),
        cmocka_unit_test(test_rsa_pkcs1_pem),
        cmocka_unit_test(test_exp_boundaries),
        cmocka_unit_test(test_exp_types),
        cmocka_unit_test(test_nbf_iat),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_signature_tamper),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_json_shapes),
        cmocka_unit_test(test_alg_values),
        cmocka_unit_test(test_alg_not_in_policy),
        cmocka_unit_test(test_alg_confusion),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_issuer_audience),
        cmocka_unit_test(test_user_claim),
        cmocka_unit_test(test_kid),
        cmocka_unit_test(test_keyset_list),
        cmocka_unit_test(test_crit_and_ignored_headers),
        cmocka_unit_test(test_ecdsa_shapes),
        cmocka_unit_test(test_load_secret),
        cmocka_unit_test(test_load_pem),
        cmocka_unit_test(test_load_jwks),
        cmocka_unit_test(test_jwks_ec_not_on_curve),
        cmocka_unit_test(test_jwks_alg_binding),
        cmocka_unit_test(test_jwks_rsa),
        cmocka_unit_test(test_rsa_public_check),
        cmocka_unit_test(test_reason_needs_keys),
        cmocka_unit_test(test_reason_class),
        cmocka_unit_test(test_secret_not_a_key),
        cmocka_unit_test(test_error_queue_clean),
    };

    return TODO_TEST_MAIN("todo_jwt", tests, group_setup, group_teardown);
}
