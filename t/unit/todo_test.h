/* todo_test: what every cmocka unit test (and the fuzzer, t/fuzz) shares --
 * the APR set-up and pool fixtures, reading test data, base64url. */
#ifndef TODO_TEST_H
#define TODO_TEST_H

/* cmocka.h needs these first. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <apr_pools.h>
#include <openssl/evp.h>

/* The pool of the whole run, made by todo_test_main() before the first
 * group fixture runs and destroyed after the last test. */
extern apr_pool_t *todo_test_pool;

/* Per-test fixture: a fresh pool in *state, destroyed after the test. */
int todo_test_pool_setup(void **state);
int todo_test_pool_teardown(void **state);
#define todo_test_with_pool(f)                               \
    cmocka_unit_test_setup_teardown(f, todo_test_pool_setup, \
                                    todo_test_pool_teardown)

/* A test program's main: initialise APR, make todo_test_pool, run the
 * group, clean up; returns cmocka's result. */
int todo_test_main(const char *name, const struct CMUnitTest *tests,
                   size_t count, CMFixtureFunction group_setup,
                   CMFixtureFunction group_teardown);
#define TODO_TEST_MAIN(name, tests, setup, teardown)                       \
    todo_test_main(name, tests, sizeof(tests) / sizeof((tests)[0]), setup, \
                   teardown)

/* The whole file at path, NUL-terminated, in p, or NULL when it cannot be
 * read; *len (may be NULL) gets its length.  For programs that are no
 * cmocka test (t/tools/jwt_sign.c). */
char *todo_test_read_file(apr_pool_t *p, const char *path, apr_size_t *len);

/* The whole file `name` -- relative to t/data (TODO_TEST_DATA) unless it
 * is an absolute path -- NUL-terminated, in p; *len (may be NULL) gets
 * its length.  A file that cannot be read fails the test. */
char *todo_test_slurp(apr_pool_t *p, const char *name, apr_size_t *len);

/* base64url without padding, in p.  The core's encoder, which test_b64
 * checks against RFC 4648's vectors. */
const char *todo_test_b64url(apr_pool_t *p, const void *data, apr_size_t n);

/* input (the JWS signing input "header.payload") signed with the Ed25519
 * private key k: the whole compact token, in p. */
const char *todo_test_sign_ed25519(apr_pool_t *p, EVP_PKEY *k,
                                   const char *input);

#endif
