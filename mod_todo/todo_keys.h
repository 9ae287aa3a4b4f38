/* todo_keys: key material for token verification, free of httpd.
 *
 * Every key is bound to one algorithm family when it is loaded (HMAC
 * secret, RSA, EC of one curve, Ed25519), so a key can never verify a
 * token of another family: an HS256 token "signed" with an RSA public key
 * PEM has no HMAC key to match.  Keys are parsed with OpenSSL 3 once, at
 * load time, never per token.
 */
#ifndef TODO_KEYS_H
#define TODO_KEYS_H

#include <apr_pools.h>
#include <openssl/evp.h>

typedef enum {
    TODO_ALG_HS256 = 0,
    TODO_ALG_HS384,
    TODO_ALG_HS512,
    TODO_ALG_RS256,
    TODO_ALG_RS384,
    TODO_ALG_RS512,
    TODO_ALG_ES256,
    TODO_ALG_ES384,
    TODO_ALG_ES512,
    TODO_ALG_EDDSA,
    TODO_ALG_COUNT
} todo_alg_e;

#define TODO_ALG_BIT(a) (1u << (a))

/* Exact, case-sensitive name -> algorithm; returns -1 when unknown
 * ("none" is unknown). */
int todo_keys_alg_from_name(const char *name);
const char *todo_keys_alg_name(todo_alg_e alg);

/* A set of verification keys.  Allocated in a pool; EVP_PKEYs it holds are
 * freed by a cleanup on that pool. */
typedef struct todo_keys todo_keys_t;

/* One key of a set, as the verifier reads it. */
typedef struct {
    unsigned algs;   /* TODO_ALG_BIT mask this key may verify */
    const char *kid; /* NULL: the key matches any token kid */
    EVP_PKEY *pkey;  /* RSA, EC or Ed25519; NULL for a secret */
    const unsigned char *secret;
    apr_size_t secret_len;
} todo_key_t;

todo_keys_t *todo_keys_make(apr_pool_t *p);

/* A kid is an opaque label of 1 to TODO_KEYS_MAX_KID bytes: bounded, so a
 * hostile header cannot make us copy or compare megabytes. */
#define TODO_KEYS_MAX_KID 256
int todo_keys_kid_valid(const char *kid, apr_size_t len);

/* HMAC secret (raw bytes, any content).  Shorter than
 * TODO_KEYS_MIN_SECRET bytes is refused, and so is public key material
 * (PEM text, a JWK or JWKS document) given as a secret.  kid may be NULL
 * (matches any kid).  Each add function returns NULL on success or a
 * one-line reason. */
#define TODO_KEYS_MIN_SECRET 32
const char *todo_keys_add_secret(todo_keys_t *ks, const unsigned char *secret,
                                 apr_size_t len, const char *kid);

/* A PEM public key (SubjectPublicKeyInfo "PUBLIC KEY", or "RSA PUBLIC
 * KEY"): RSA (>= 2048 bits, passing OpenSSL's public key check: odd
 * e > 1, sound modulus), EC P-256/P-384/P-521 (a point of its curve), or
 * Ed25519.  JWKS keys are held to the same rules. */
const char *todo_keys_add_pem(todo_keys_t *ks, const char *pem, apr_size_t len,
                              const char *kid);

/* Every usable key of a JWKS document ({"keys":[...]}): kty RSA, EC
 * (P-256/384/521) and OKP (Ed25519); keys with "use" other than "sig", or
 * of unsupported types, are skipped.  A key's "alg", when present, binds
 * the key to that one algorithm.  Returns an error when the document is not
 * a JWKS or holds no usable key; *added (may be NULL) gets the count. */
const char *todo_keys_add_jwks(todo_keys_t *ks, const char *json,
                               apr_size_t len, int *added);

/* Number of keys in the set, key i (NULL when out of range), and whether
 * some key can verify alg. */
int todo_keys_count(const todo_keys_t *ks);
const todo_key_t *todo_keys_at(const todo_keys_t *ks, int i);
int todo_keys_supports(const todo_keys_t *ks, todo_alg_e alg);

#endif
