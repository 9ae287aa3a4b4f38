/* Unit tests of todo_verifier: the configuration checks that refuse to
 * start, verification through the token cache, and the difference between
 * a bad token (401) and keys we could not load (503). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "todo_test.h"
#include "todo_fetch.h"
#include "todo_verifier.h"

#define NOW ((apr_int64_t)1700000000)
#define SECRET "0123456789abcdef0123456789abcdef-verifier"

/* An HS256 token for sub with the given exp. */
static const char *hs256(apr_pool_t *p, const char *sub, apr_int64_t exp)
{
    const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    const char *c = apr_psprintf(
        p, "{\"sub\":\"%s\",\"exp\":%" APR_INT64_T_FMT "}", sub, exp);
    const char *in = apr_pstrcat(p, todo_test_b64url(p, h, strlen(h)), ".",
                                 todo_test_b64url(p, c, strlen(c)), NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)in,
         strlen(in), mac, &n);
    return apr_pstrcat(p, in, ".", todo_test_b64url(p, mac, n), NULL);
}

static todo_verifier_conf_t conf(apr_pool_t *p, unsigned algs,
                                 const char *jwks_url)
{
    todo_verifier_conf_t c;

    memset(&c, 0, sizeof(c));
    c.algs = algs;
    c.keys = todo_keys_make(p);
    assert_null(todo_keys_add_secret((todo_keys_t *)c.keys,
                                     (const unsigned char *)SECRET,
                                     strlen(SECRET), NULL));
    c.jwks_url = jwks_url;
    c.jwks_refresh = apr_time_from_sec(60);
    c.leeway = 30;
    c.user_claim = "sub";
    return c;
}

static void test_refusals(void **state)
{
    apr_pool_t *p = *state;
    todo_verifier_conf_t c = conf(p, TODO_ALG_BIT(TODO_ALG_HS256), NULL);
    todo_verifier_t *v;
    const char *err;

    c.keys = NULL;
    err = todo_verifier_make(p, &c, &v);
    assert_non_null(err);
    assert_non_null(strstr(err, "TodoJWTAlgorithms: no key material"));
    c = conf(p, TODO_ALG_BIT(TODO_ALG_HS256) | TODO_ALG_BIT(TODO_ALG_ES256),
             NULL);
    err = todo_verifier_make(p, &c, &v);
    assert_non_null(err);
    assert_non_null(strstr(err, "ES256 is allowed but no ES256 key"));
    /* A JWKS URL brings asymmetric keys, never HMAC ones. */
    c = conf(p, TODO_ALG_BIT(TODO_ALG_ES256), "http://127.0.0.1:9/j");
    assert_null(todo_verifier_make(p, &c, &v));
    c.keys = NULL;
    c.algs = TODO_ALG_BIT(TODO_ALG_HS256);
    err = todo_verifier_make(p, &c, &v);
    assert_non_null(err);
    assert_non_null(strstr(err, "(TodoJWTSecret or TodoJWTSecretFile)"));
}

static void test_verify_and_cache(void **state)
{
    apr_pool_t *p = *state;
    todo_verifier_conf_t c = conf(p, TODO_ALG_BIT(TODO_ALG_HS256), NULL);
    const char *tok = hs256(p, "alice", NOW + 60);
    todo_verify_result_t res;
    todo_verifier_t *v;

    assert_null(todo_verifier_make(p, &c, &v));
    assert_int_equal(todo_verifier_check(v, p, tok, strlen(tok), NOW, &res),
                     TODO_VERIFY_OK);
    assert_string_equal(res.user, "alice");
    assert_false(res.cached);
    assert_int_equal(res.alg, TODO_ALG_HS256);
    assert_int_equal(todo_verifier_check(v, p, tok, strlen(tok), NOW, &res),
                     TODO_VERIFY_OK);
    assert_true(res.cached);
    assert_string_equal(res.user, "alice");
    /* Past exp plus the leeway the cache no longer answers, and the
     * verification itself refuses. */
    assert_int_equal(
        todo_verifier_check(v, p, tok, strlen(tok), NOW + 60 + 31, &res),
        TODO_VERIFY_INVALID);
    assert_false(res.cached);
    assert_non_null(res.reason);
}

static void test_invalid(void **state)
{
    apr_pool_t *p = *state;
    todo_verifier_conf_t c = conf(p, TODO_ALG_BIT(TODO_ALG_HS256), NULL);
    char *tok = apr_pstrdup(p, hs256(p, "bob", NOW + 60));
    char *huge = apr_palloc(p, TODO_JWT_MAX_TOKEN + 2);
    todo_verify_result_t res;
    todo_verifier_t *v;

    assert_null(todo_verifier_make(p, &c, &v));
    tok[strlen(tok) - 2] ^= 1; /* a bit of the signature */
    assert_int_equal(todo_verifier_check(v, p, tok, strlen(tok), NOW, &res),
                     TODO_VERIFY_INVALID);
    assert_null(res.user);
    assert_non_null(res.reason);
    memset(huge, 'a', TODO_JWT_MAX_TOKEN + 1);
    huge[TODO_JWT_MAX_TOKEN + 1] = '\0';
    assert_int_equal(todo_verifier_check(v, p, huge, strlen(huge), NOW, &res),
                     TODO_VERIFY_INVALID);
    assert_string_equal(res.reason, "token too long");
}

/* A JWKS URL that never answers (nothing listens on the discard port). */
static void test_jwks_unavailable(void **state)
{
    apr_pool_t *p = *state;
    todo_verifier_conf_t c =
        conf(p, TODO_ALG_BIT(TODO_ALG_HS256) | TODO_ALG_BIT(TODO_ALG_EDDSA),
             "http://127.0.0.1:9/jwks.json");
    const char *ed = "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ."
                     "eyJzdWIiOiJhIiwiZXhwIjoxNzAwMDAwNjAwfQ."
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *hs = hs256(p, "carol", NOW + 60);
    todo_verify_result_t res;
    todo_verifier_t *v;

    todo_fetch_global_init();
    assert_null(todo_verifier_make(p, &c, &v));
    /* An EdDSA token may need a key of the JWKS: our failure, 503. */
    assert_int_equal(todo_verifier_check(v, p, ed, strlen(ed), NOW, &res),
                     TODO_VERIFY_UNAVAILABLE);
    assert_non_null(res.reason);
    /* An HS256 token is judged by the secret alone. */
    assert_int_equal(todo_verifier_check(v, p, hs, strlen(hs), NOW, &res),
                     TODO_VERIFY_OK);
    assert_string_equal(res.user, "carol");
    /* Garbage stays the client's fault. */
    assert_int_equal(todo_verifier_check(v, p, "x.y.z", 5, NOW, &res),
                     TODO_VERIFY_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_refusals),
        todo_test_with_pool(test_verify_and_cache),
        todo_test_with_pool(test_invalid),
        todo_test_with_pool(test_jwks_unavailable),
    };

    return TODO_TEST_MAIN("todo_verifier", tests, NULL, NULL);
}
