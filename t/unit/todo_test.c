/* todo_test: the unit tests' shared helpers (see todo_test.h). */
#include "todo_test.h"

#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "todo_b64.h"

#ifndef TODO_TEST_DATA
#error "TODO_TEST_DATA must name the t/data directory"
#endif

apr_pool_t *todo_test_pool;

int todo_test_pool_setup(void **state)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, todo_test_pool) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

int todo_test_pool_teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

int todo_test_main(const char *name, const struct CMUnitTest *tests,
                   size_t count, CMFixtureFunction group_setup,
                   CMFixtureFunction group_teardown)
{
    int rc;

    apr_initialize();
    if (apr_pool_create(&todo_test_pool, NULL) != APR_SUCCESS) {
        fprintf(stderr, "%s: cannot create a pool\n", name);
        return 1;
    }
    rc = _cmocka_run_group_tests(name, tests, count, group_setup,
                                 group_teardown);
    apr_pool_destroy(todo_test_pool);
    todo_test_pool = NULL;
    apr_terminate();
    return rc;
}

char *todo_test_read_file(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    apr_size_t n = 0, cap = 4096;
    char *buf;

    if (!f) {
        return NULL;
    }
    buf = apr_palloc(p, cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) {
            break;
        }
        buf = memcpy(apr_palloc(p, cap * 2), buf, n);
        cap *= 2;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return buf;
}

char *todo_test_slurp(apr_pool_t *p, const char *name, apr_size_t *len)
{
    const char *path = name[0] == '/'
                           ? name
                           : apr_pstrcat(p, TODO_TEST_DATA, "/", name, NULL);
    char *buf = todo_test_read_file(p, path, len);

    if (!buf) {
        fail_msg("cannot open %s", path);
    }
    return buf;
}

const char *todo_test_b64url(apr_pool_t *p, const void *data, apr_size_t n)
{
    return todo_b64_encode(p, data, n);
}

const char *todo_test_sign_ed25519(apr_pool_t *p, EVP_PKEY *k,
                                   const char *input)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[64];
    size_t siglen = sizeof(sig);

    assert_int_equal(
        EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, k, NULL), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
                                    (const unsigned char *)input,
                                    strlen(input)),
                     1);
    EVP_MD_CTX_free(ctx);
    return apr_pstrcat(p, input, ".", todo_test_b64url(p, sig, siglen), NULL);
}
