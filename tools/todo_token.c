/* todo-token: mint an HS256 token for mod_todo's shared-secret setup (the
 * demo of the quick start, scripts and tests).  Uses libjwt.
 *
 *   todo-token --secret-file FILE --sub USER [--ttl SECONDS]
 *              [--iss ISSUER] [--aud AUDIENCE] [--alg HS256|HS384|HS512]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jwt.h>

static void usage(void)
{
    fprintf(stderr, "usage: todo-token --secret-file FILE --sub USER "
                    "[--ttl SECONDS] [--iss ISS] [--aud AUD] [--alg HS256]\n");
    exit(2);
}

/* The secret file as mod_todo reads it: raw bytes, one trailing newline
 * dropped. */
static unsigned char *read_secret(const char *path, size_t *len)
{
    static unsigned char buf[4096];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f) {
        fprintf(stderr, "todo-token: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (n && buf[n - 1] == '\n') {
        n--;
        if (n && buf[n - 1] == '\r') {
            n--;
        }
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *secret_file = NULL, *sub = NULL, *iss = NULL, *aud = NULL;
    const char *alg_name = "HS256";
    long ttl = 3600;
    unsigned char *key;
    size_t keylen;
    jwt_t *jwt = NULL;
    jwt_alg_t alg;
    char *out;
    time_t now = time(NULL);
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--secret-file")) {
            secret_file = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--sub")) {
            sub = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--iss")) {
            iss = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--aud")) {
            aud = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--alg")) {
            alg_name = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--ttl")) {
            ttl = strtol(argv[i + 1], NULL, 10);
        }
        else {
            usage();
        }
    }
    if (i != argc || !secret_file || !sub || ttl <= 0) {
        usage();
    }
    alg = jwt_str_alg(alg_name);
    if (alg != JWT_ALG_HS256 && alg != JWT_ALG_HS384 && alg != JWT_ALG_HS512) {
        fprintf(stderr, "todo-token: only HS256/HS384/HS512\n");
        return 2;
    }
    key = read_secret(secret_file, &keylen);
    if (jwt_new(&jwt) || jwt_set_alg(jwt, alg, key, (int)keylen)
        || jwt_add_grant(jwt, "sub", sub) || jwt_add_grant_int(jwt, "iat", now)
        || jwt_add_grant_int(jwt, "exp", now + ttl)
        || (iss && jwt_add_grant(jwt, "iss", iss))
        || (aud && jwt_add_grant(jwt, "aud", aud))) {
        fprintf(stderr, "todo-token: cannot build the token\n");
        return 1;
    }
    out = jwt_encode_str(jwt);
    if (!out) {
        fprintf(stderr, "todo-token: cannot sign the token\n");
        return 1;
    }
    puts(out);
    free(out);
    jwt_free(jwt);
    return 0;
}
