/* todo_jwt: JSON Web Token verification, free of httpd.
 *
 * A token is checked against a policy (allowed algorithms, issuer, audience,
 * leeway, user claim) and one or more key sets.  Every key is bound to one
 * algorithm family when it is loaded (HMAC secret, RSA, EC of one curve,
 * Ed25519), so a key can never verify a token of another family: an HS256
 * token "signed" with an RSA public key PEM has no HMAC key to match.
 *
 * Signatures are checked with OpenSSL 3 directly (EVP), because libjwt 1.10
 * matches "alg" case-insensitively, skips the check on an empty key, parses
 * PEM on every call, puts the token on the stack with alloca and has no EdDSA.
 */
#ifndef TODO_JWT_H
#define TODO_JWT_H

#include <apr_pools.h>
#include <apr_time.h>

/* Upper bound on the length of a compact token; longer ones are rejected
 * before anything is decoded. */
#define TODO_JWT_MAX_TOKEN 8192
/* Upper bound on the user claim value, in bytes. */
#define TODO_JWT_MAX_USER 255

typedef enum {
    TODO_ALG_HS256 = 0, TODO_ALG_HS384, TODO_ALG_HS512,
    TODO_ALG_RS256, TODO_ALG_RS384, TODO_ALG_RS512,
    TODO_ALG_ES256, TODO_ALG_ES384, TODO_ALG_ES512,
    TODO_ALG_EDDSA,
    TODO_ALG_COUNT
} todo_alg_e;

#define TODO_ALG_BIT(a) (1u << (a))

/* Exact, case-sensitive name -> algorithm; returns -1 when unknown
 * ("none" is unknown). */
int todo_jwt_alg_from_name(const char *name);
const char *todo_jwt_alg_name(todo_alg_e alg);

/* A set of verification keys.  Allocated in a pool; EVP_PKEYs it holds are
 * freed by a cleanup on that pool. */
typedef struct todo_jwt_keyset todo_jwt_keyset_t;

todo_jwt_keyset_t *todo_jwt_keyset_make(apr_pool_t *p);

/* HMAC secret (raw bytes, any content).  Shorter than
 * TODO_JWT_MIN_SECRET bytes is refused, and so is public key material
 * (PEM text, a JWK or JWKS document) given as a secret.  kid may be NULL
 * (matches any kid).  Each add function returns NULL on success or a
 * one-line reason. */
#define TODO_JWT_MIN_SECRET 32
const char *todo_jwt_keyset_add_secret(todo_jwt_keyset_t *ks,
                                       const unsigned char *secret,
                                       apr_size_t len, const char *kid);

/* A PEM public key (SubjectPublicKeyInfo "PUBLIC KEY", or "RSA PUBLIC
 * KEY"): RSA (>= 2048 bits, passing OpenSSL's public key check: odd
 * e > 1, sound modulus), EC P-256/P-384/P-521 (a point of its curve), or
 * Ed25519.  JWKS keys are held to the same rules. */
const char *todo_jwt_keyset_add_pem(todo_jwt_keyset_t *ks, const char *pem,
                                    apr_size_t len, const char *kid);

/* Every usable key of a JWKS document ({"keys":[...]}): kty RSA, EC
 * (P-256/384/521) and OKP (Ed25519); keys with "use" other than "sig", or
 * of unsupported types, are skipped.  A key's "alg", when present, binds
 * the key to that one algorithm.  Returns an error when the document is not
 * a JWKS or holds no usable key; *added (may be NULL) gets the count. */
const char *todo_jwt_keyset_add_jwks(todo_jwt_keyset_t *ks, const char *json,
                                     apr_size_t len, int *added);

/* Number of keys in the set, and whether some key can verify alg. */
int todo_jwt_keyset_count(const todo_jwt_keyset_t *ks);
int todo_jwt_keyset_supports(const todo_jwt_keyset_t *ks, todo_alg_e alg);

typedef struct {
    unsigned algs;             /* TODO_ALG_BIT() mask of allowed algorithms */
    const char *issuer;        /* NULL: "iss" is not checked */
    const char *audience;      /* NULL: "aud" is not checked */
    apr_int64_t leeway;        /* seconds, for exp/nbf/iat */
    const char *user_claim;    /* e.g. "sub" */
} todo_jwt_policy_t;

typedef enum {
    TODO_JWT_OK = 0,
    TODO_JWT_INVALID,          /* reject; *reason says why */
    TODO_JWT_UNKNOWN_KID       /* no key carries the token's kid: a caller
                                  with a JWKS URL may refetch and retry */
} todo_jwt_status_e;

typedef struct {
    const char *user;          /* the user claim, allocated in the pool */
    apr_int64_t exp;           /* seconds since the epoch */
    todo_alg_e alg;
    const char *kid;           /* NULL when the header has none */
} todo_jwt_result_t;

/* Verify a compact JWS.  keysets is an array of nsets sets searched in
 * order (NULL entries are skipped).  now is the current time in seconds.
 * On TODO_JWT_OK *out is filled; otherwise *reason (never NULL) is a short
 * human-readable reason fit for an error_description and a log line; it
 * never contains the token or key material, and out->alg (when out is not
 * NULL) is the algorithm the header named if the header passed its checks,
 * TODO_ALG_COUNT if not; the other fields of *out are then zero. */
todo_jwt_status_e todo_jwt_verify(apr_pool_t *p, const char *token,
                                  apr_size_t len,
                                  const todo_jwt_policy_t *policy,
                                  const todo_jwt_keyset_t *const *keysets,
                                  int nsets, apr_int64_t now,
                                  todo_jwt_result_t *out,
                                  const char **reason);

/* Whether a failure with this reason (from todo_jwt_verify) could be for
 * want of a key: no key for the algorithm or the kid, or a signature none
 * of the given keys verifies.  With keys the caller could not load (a JWKS
 * URL that never answered) such a token might still be good, if its
 * algorithm is one such keys serve; any other failure (malformed, not
 * allowed, expired...) is final. */
int todo_jwt_reason_needs_keys(const char *reason);

#endif
