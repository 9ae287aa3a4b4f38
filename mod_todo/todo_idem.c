/* todo_idem: Idempotency-Key parsing and request fingerprints (see
 * todo_idem.h). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "todo_idem.h"

#define WHY_SYNTAX \
    "must be a quoted string or a token of 1-255 visible ASCII characters"

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int is_lcalpha(char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_alpha(char c)
{
    return is_lcalpha(c) || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 9110 tchar. */
static int is_tchar(char c)
{
    return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A character of a bare key: visible ASCII but the field syntax's own. */
static int is_bare(char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\' && c != ','
           && c != ';';
}

/* An sf-string at *s (which starts with '"'): its content, unescaped,
 * into out (when not NULL; room for the whole input).  Advances *s past
 * the closing quote.  -1 when malformed. */
static int sf_string(const char **s, char *out, apr_size_t *n)
{
    const char *c = *s + 1;
    apr_size_t k = 0;

    for (;; c++) {
        if (*c == '"') {
            break;
        }
        if (*c == '\\') {
            c++;
            if (*c != '"' && *c != '\\') {
                return -1;
            }
        }
        else if (*c < 0x20 || *c > 0x7e) {
            return -1; /* the end of the value included */
        }
        if (out) {
            out[k] = *c;
        }
        k++;
    }
    *s = c + 1;
    if (n) {
        *n = k;
    }
    return 0;
}

/* One bare item of a parameter (RFC 8941 section 3.3): integer, decimal,
 * string, token, byte sequence or boolean.  Its value does not matter. */
static int bare_item(const char **s)
{
    const char *c = *s;

    if (*c == '"') {
        return sf_string(s, NULL, NULL);
    }
    if (*c == '?') {
        if (c[1] != '0' && c[1] != '1') {
            return -1;
        }
        *s = c + 2;
        return 0;
    }
    if (*c == ':') {
        for (c++; *c && *c != ':'; c++) {
            if (!is_alpha(*c) && !is_digit(*c) && !strchr("+/=", *c)) {
                return -1;
            }
        }
        if (*c != ':') {
            return -1;
        }
        *s = c + 1;
        return 0;
    }
    if (*c == '-' || is_digit(*c)) {
        c += *c == '-';
        if (!is_digit(*c)) {
            return -1;
        }
        while (is_digit(*c)) {
            c++;
        }
        if (*c == '.') {
            c++;
            if (!is_digit(*c)) {
                return -1;
            }
            while (is_digit(*c)) {
                c++;
            }
        }
        *s = c;
        return 0;
    }
    if (is_alpha(*c) || *c == '*') {
        for (c++; is_tchar(*c) || *c == ':' || *c == '/'; c++) {
            ;
        }
        *s = c;
        return 0;
    }
    return -1;
}

/* Parameters: *( ";" *SP key [ "=" bare-item ] ). */
static int parameters(const char **s)
{
    const char *c = *s;

    while (*c == ';') {
        for (c++; *c == ' '; c++) {
            ;
        }
        if (!is_lcalpha(*c) && *c != '*') {
            return -1;
        }
        for (c++; is_lcalpha(*c) || is_digit(*c) || (*c && strchr("_-.*", *c));
             c++) {
            ;
        }
        if (*c == '=') {
            c++;
            if (bare_item(&c)) {
                return -1;
            }
        }
    }
    *s = c;
    return 0;
}

int todo_idem_parse_key(apr_pool_t *p, const char *value, const char **key,
                        const char **why)
{
    const char *s = value ? value : "";
    char *out;
    apr_size_t n = 0, i;

    *why = WHY_SYNTAX;
    while (is_ows(*s)) {
        s++;
    }
    out = apr_palloc(p, strlen(s) + 1);
    if (*s == '"') {
        if (sf_string(&s, out, &n)) {
            return -1;
        }
    }
    else {
        while (is_bare(*s)) {
            out[n++] = *s++;
        }
    }
    if (parameters(&s)) {
        return -1;
    }
    while (is_ows(*s)) {
        s++;
    }
    if (*s) {
        return -1; /* a list, blanks inside a bare key, control bytes ... */
    }
    if (!n || n > TODO_IDEM_KEY_MAX) {
        *why = "must be 1-255 characters long";
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (out[i] < 0x21 || out[i] > 0x7e) {
            *why = "must hold only visible ASCII characters (no blanks)";
            return -1;
        }
    }
    out[n] = '\0';
    *key = out;
    *why = NULL;
    return 0;
}

/* ---------------------------------------------------------- fingerprint */

static void put_field(EVP_MD_CTX *md, const void *d, apr_size_t n)
{
    unsigned char len[8];
    int i;

    for (i = 0; i < 8; i++) {
        len[i] = (unsigned char)((apr_uint64_t)n >> (56 - 8 * i));
    }
    EVP_DigestUpdate(md, len, sizeof(len));
    if (n) {
        EVP_DigestUpdate(md, d, n);
    }
}

const char *todo_idem_fingerprint(apr_pool_t *p, const char *method,
                                  const char *operation, const char *task_id,
                                  const char *body, apr_size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *fp;
    int ok;

    if (!md) {
        return NULL;
    }
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    if (ok) {
        put_field(md, method, strlen(method));
        put_field(md, operation, strlen(operation));
        put_field(md, task_id ? task_id : "", task_id ? strlen(task_id) : 0);
        put_field(md, body, body ? len : 0);
        ok = EVP_DigestFinal_ex(md, out, &n);
    }
    EVP_MD_CTX_free(md);
    if (!ok || n * 2 != TODO_IDEM_FP_LEN) {
        return NULL;
    }
    fp = apr_palloc(p, TODO_IDEM_FP_LEN + 1);
    for (i = 0; i < n; i++) {
        fp[2 * i] = hex[out[i] >> 4];
        fp[2 * i + 1] = hex[out[i] & 0xf];
    }
    fp[TODO_IDEM_FP_LEN] = '\0';
    return fp;
}
