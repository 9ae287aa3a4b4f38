/* todo_token: sealed opaque tokens and their payload encoding (see
 * todo_token.h). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "todo_b64.h"
#include "todo_text.h"
#include "todo_token.h"

/* The tag of payload for purpose and user.  NUL separates the parts:
 * neither a purpose nor a user id (a JWT claim without control
 * characters) holds one. */
static int tag_of(apr_pool_t *p, const todo_token_key_t *key,
                  const char *purpose, const char *user,
                  const unsigned char *payload, apr_size_t len,
                  unsigned char out[EVP_MAX_MD_SIZE])
{
    apr_size_t np = strlen(purpose) + 1, nu = strlen(user) + 1, n = 0;
    unsigned char *msg = apr_palloc(p, np + nu + len);

    memcpy(msg, purpose, np);
    memcpy(msg + np, user, nu);
    memcpy(msg + np + nu, payload, len);
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->data, key->len,
                   msg, np + nu + len, out, EVP_MAX_MD_SIZE, &n)) {
        return -1;
    }
    return n >= TODO_TOKEN_TAG_LEN ? 0 : -1;
}

const char *todo_token_seal(apr_pool_t *p, const todo_token_key_t *key,
                            const char *purpose, const char *user,
                            const unsigned char *payload, apr_size_t len)
{
    unsigned char *all = apr_palloc(p, len + TODO_TOKEN_TAG_LEN);
    unsigned char tag[EVP_MAX_MD_SIZE];

    if (tag_of(p, key, purpose, user, payload, len, tag)) {
        return NULL;
    }
    memcpy(all, payload, len);
    memcpy(all + len, tag, TODO_TOKEN_TAG_LEN);
    return todo_b64_encode(p, all, len + TODO_TOKEN_TAG_LEN);
}

int todo_token_open(apr_pool_t *p, const todo_token_key_t *key,
                    const char *purpose, const char *user, const char *token,
                    const unsigned char **payload, apr_size_t *len)
{
    unsigned char tag[EVP_MAX_MD_SIZE];
    apr_size_t n = token ? strlen(token) : 0;
    todo_bytes_t b;

    if (!n || n > TODO_TOKEN_MAX || todo_b64_decode(p, token, n, &b)
        || b.len < TODO_TOKEN_TAG_LEN) {
        return -1;
    }
    n = b.len - TODO_TOKEN_TAG_LEN;
    if (tag_of(p, key, purpose, user, b.data, n, tag)
        || CRYPTO_memcmp(tag, b.data + n, TODO_TOKEN_TAG_LEN)) {
        return -1;
    }
    *payload = b.data;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------ writing */

void todo_token_w_init(todo_token_w_t *w, apr_pool_t *p)
{
    w->pool = p;
    w->cap = 64;
    w->len = 0;
    w->data = apr_palloc(p, w->cap);
}

static void reserve(todo_token_w_t *w, apr_size_t n)
{
    unsigned char *d;

    if (w->len + n <= w->cap) {
        return;
    }
    while (w->cap < w->len + n) {
        w->cap *= 2;
    }
    d = apr_palloc(w->pool, w->cap);
    memcpy(d, w->data, w->len);
    w->data = d;
}

void todo_token_put_u8(todo_token_w_t *w, unsigned v)
{
    reserve(w, 1);
    w->data[w->len++] = (unsigned char)v;
}

void todo_token_put_varint(todo_token_w_t *w, apr_uint64_t v)
{
    reserve(w, 10);
    do {
        unsigned char b = (unsigned char)(v & 0x7f);

        v >>= 7;
        w->data[w->len++] = v ? (unsigned char)(b | 0x80) : b;
    } while (v);
}

void todo_token_put_bytes(todo_token_w_t *w, const void *d, apr_size_t n)
{
    reserve(w, n);
    memcpy(w->data + w->len, d, n);
    w->len += n;
}

void todo_token_put_str(todo_token_w_t *w, const char *s, apr_size_t n)
{
    todo_token_put_varint(w, n);
    todo_token_put_bytes(w, s, n);
}

int todo_token_put_uuid(todo_token_w_t *w, const char *text)
{
    unsigned char b[16];
    int i, k = 0;

    if (!text || !todo_text_is_uuid(text)) {
        return -1;
    }
    for (i = 0; i < 16; i++) {
        if (text[k] == '-') {
            k++;
        }
        b[i] =
            (unsigned char)(todo_text_hex_value((unsigned char)text[k]) << 4
                            | todo_text_hex_value((unsigned char)text[k + 1]));
        k += 2;
    }
    todo_token_put_bytes(w, b, sizeof(b));
    return 0;
}

/* ------------------------------------------------------------ reading */

void todo_token_r_init(todo_token_r_t *r, const unsigned char *d, apr_size_t n)
{
    r->data = d;
    r->len = n;
    r->pos = 0;
    r->failed = 0;
}

static int fail(todo_token_r_t *r)
{
    r->failed = 1;
    return -1;
}

int todo_token_get_u8(todo_token_r_t *r, unsigned *v)
{
    if (r->failed || r->pos >= r->len) {
        return fail(r);
    }
    *v = r->data[r->pos++];
    return 0;
}

int todo_token_get_varint(todo_token_r_t *r, apr_uint64_t *v)
{
    apr_uint64_t x = 0;
    unsigned shift = 0;

    for (;;) {
        unsigned char b;

        if (r->failed || r->pos >= r->len || shift > 63) {
            return fail(r);
        }
        b = r->data[r->pos++];
        /* The tenth byte may only hold the 64th bit. */
        if (shift == 63 && (b & 0x7e)) {
            return fail(r);
        }
        x |= (apr_uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            /* A zero last byte after others is a longer spelling. */
            if (!b && shift) {
                return fail(r);
            }
            break;
        }
        shift += 7;
    }
    *v = x;
    return 0;
}

int todo_token_get_bytes(todo_token_r_t *r, void *d, apr_size_t n)
{
    if (r->failed || r->len - r->pos < n) {
        return fail(r);
    }
    memcpy(d, r->data + r->pos, n);
    r->pos += n;
    return 0;
}

int todo_token_get_str(todo_token_r_t *r, apr_pool_t *p, apr_size_t max,
                       const char **s, apr_size_t *n)
{
    apr_uint64_t len;
    char *out;

    if (todo_token_get_varint(r, &len) || len > max || r->len - r->pos < len) {
        return fail(r);
    }
    out = apr_palloc(p, (apr_size_t)len + 1);
    memcpy(out, r->data + r->pos, (apr_size_t)len);
    out[len] = '\0';
    r->pos += (apr_size_t)len;
    *s = out;
    if (n) {
        *n = (apr_size_t)len;
    }
    return 0;
}

int todo_token_get_uuid(todo_token_r_t *r, apr_pool_t *p, const char **text)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    char *out;
    int i, k = 0;

    if (todo_token_get_bytes(r, b, sizeof(b))) {
        return -1;
    }
    out = apr_palloc(p, 37);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[k++] = '-';
        }
        out[k++] = hex[b[i] >> 4];
        out[k++] = hex[b[i] & 0xf];
    }
    out[k] = '\0';
    *text = out;
    return 0;
}

int todo_token_r_done(const todo_token_r_t *r)
{
    return !r->failed && r->pos == r->len;
}
