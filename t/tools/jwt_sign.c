/* jwt-sign: sign an arbitrary JOSE header and payload into a compact JWS,
 * for the integration tests (which also need tokens no honest issuer would
 * make: odd headers, wrong keys, crafted claims).
 *
 *   jwt-sign --alg ALG (--key PRIVATE.pem | --secret-file FILE)
 *            --header JSON --payload JSON
 *
 * ALG: HS256/384/512 (HMAC with the file's raw bytes, one trailing newline
 * dropped), RS256/384/512, ES256/384/512 (raw R||S as JWS wants),
 * EdDSA (Ed25519).  The header is used verbatim, so it may name another
 * algorithm than the one signing (that is the point of some tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <apr_general.h>

#include "todo_test.h"

static void die(const char *m)
{
    fprintf(stderr, "jwt-sign: %s\n", m);
    exit(1);
}

/* Everything lives until exit in one pool. */
static apr_pool_t *pool;

static unsigned char *slurp(const char *path, size_t *n)
{
    apr_size_t len;
    char *buf = todo_test_read_file(pool, path, &len);

    if (!buf) {
        die("cannot open key file");
    }
    *n = len;
    return (unsigned char *)buf;
}

static const char *b64url(const unsigned char *in, size_t n)
{
    return todo_test_b64url(pool, in, n);
}

static const EVP_MD *md_of(const char *alg)
{
    const char *bits = alg + strlen(alg) - 3;

    if (!strcmp(bits, "256")) {
        return EVP_sha256();
    }
    if (!strcmp(bits, "384")) {
        return EVP_sha384();
    }
    if (!strcmp(bits, "512")) {
        return EVP_sha512();
    }
    die("unknown algorithm");
    return NULL;
}

static unsigned char *hmac(const char *alg, const char *file, const char *data,
                           size_t *siglen)
{
    size_t klen;
    unsigned char *key = slurp(file, &klen);
    unsigned char *out = malloc(EVP_MAX_MD_SIZE);
    size_t olen;

    if (klen && key[klen - 1] == '\n') {
        klen--;
        if (klen && key[klen - 1] == '\r') {
            klen--;
        }
    }
    if (!EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(md_of(alg)), NULL, key,
                   klen, (const unsigned char *)data, strlen(data), out,
                   EVP_MAX_MD_SIZE, &olen)) {
        die("HMAC failed");
    }
    *siglen = olen;
    return out;
}

/* ECDSA signatures come out DER-encoded; JWS wants R||S, each padded to the
 * curve's size. */
static unsigned char *ecdsa_raw(const unsigned char *der, size_t n,
                                size_t half, size_t *siglen)
{
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)n);
    unsigned char *out = calloc(1, half * 2);
    const BIGNUM *r, *s;

    if (!sig) {
        die("bad ECDSA signature");
    }
    ECDSA_SIG_get0(sig, &r, &s);
    BN_bn2binpad(r, out, (int)half);
    BN_bn2binpad(s, out + half, (int)half);
    ECDSA_SIG_free(sig);
    *siglen = half * 2;
    return out;
}

static unsigned char *pkey_sign(const char *alg, const char *file,
                                const char *data, size_t *siglen)
{
    FILE *f = fopen(file, "r");
    EVP_PKEY *pk = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = strcmp(alg, "EdDSA") ? md_of(alg) : NULL;
    unsigned char *sig;
    size_t n = 0;

    if (f) {
        fclose(f);
    }
    if (!pk) {
        die("cannot read the private key");
    }
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, pk) != 1
        || EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)data,
                          strlen(data))
               != 1) {
        die("cannot sign");
    }
    sig = malloc(n);
    if (EVP_DigestSign(ctx, sig, &n, (const unsigned char *)data, strlen(data))
        != 1) {
        die("cannot sign");
    }
    EVP_MD_CTX_free(ctx);
    if (alg[0] == 'E' && alg[1] == 'S') {
        size_t half = !strcmp(alg, "ES256")   ? 32
                      : !strcmp(alg, "ES384") ? 48
                                              : 66;
        unsigned char *raw = ecdsa_raw(sig, n, half, siglen);
        free(sig);
        EVP_PKEY_free(pk);
        return raw;
    }
    EVP_PKEY_free(pk);
    *siglen = n;
    return sig;
}

int main(int argc, char **argv)
{
    const char *alg = NULL, *key = NULL, *secret = NULL;
    const char *header = NULL, *payload = NULL;
    const char *h, *p, *s;
    char *data;
    unsigned char *sig;
    size_t siglen;
    int i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--alg")) {
            alg = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--key")) {
            key = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--secret-file")) {
            secret = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--header")) {
            header = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--payload")) {
            payload = argv[i + 1];
        }
        else {
            die("unknown option");
        }
    }
    if (!alg || !header || !payload || (!key == !secret)) {
        die("usage: jwt-sign --alg ALG (--key PEM | --secret-file F) "
            "--header JSON --payload JSON");
    }
    h = b64url((const unsigned char *)header, strlen(header));
    p = b64url((const unsigned char *)payload, strlen(payload));
    data = malloc(strlen(h) + strlen(p) + 2);
    sprintf(data, "%s.%s", h, p);
    sig = secret ? hmac(alg, secret, data, &siglen)
                 : pkey_sign(alg, key, data, &siglen);
    s = b64url(sig, siglen);
    printf("%s.%s\n", data, s);
    /* Freed so that the tests' sanitizer pass (LeakSanitizer) passes. */
    free(sig);
    free(data);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
