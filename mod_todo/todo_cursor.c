/* todo_cursor: list cursors (see todo_cursor.h). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "todo_cursor.h"

#define PURPOSE "cursor"
#define VERSION 1
#define BINDING_LEN 8

/* One field of the binding: present or not, then its length and bytes. */
static void bind_field(EVP_MD_CTX *md, const char *v)
{
    unsigned char head[5] = { 0 };
    apr_size_t n = v ? strlen(v) : 0;
    int i;

    head[0] = v ? 1 : 0;
    for (i = 0; i < 4; i++) {
        head[1 + i] = (unsigned char)(n >> (24 - 8 * i));
    }
    EVP_DigestUpdate(md, head, sizeof(head));
    if (n) {
        EVP_DigestUpdate(md, v, n);
    }
}

/* What a cursor must be used with: the first bytes of the SHA-256 of
 * the sort and the filters as parsed (so "Pending" and "pending", or two
 * spellings of one instant, are the same query). */
static int binding(const todo_list_query_t *q, unsigned char out[BINDING_LEN])
{
    unsigned char md_out[EVP_MAX_MD_SIZE];
    unsigned char head[2];
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok;

    if (!md) {
        return -1;
    }
    head[0] = (unsigned char)q->sort;
    head[1] = (unsigned char)q->status;
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL)
         && EVP_DigestUpdate(md, head, sizeof(head));
    if (ok) {
        bind_field(md, q->q);
        bind_field(md, q->due_before);
        bind_field(md, q->due_after);
        bind_field(md, q->updated_since);
        ok = EVP_DigestFinal_ex(md, md_out, &n);
    }
    EVP_MD_CTX_free(md);
    if (!ok || n < BINDING_LEN) {
        return -1;
    }
    memcpy(out, md_out, BINDING_LEN);
    return 0;
}

const char *todo_cursor_make(apr_pool_t *p, const todo_token_key_t *k,
                             const char *user, const todo_list_query_t *q,
                             const char *key, const char *id)
{
    unsigned char bind[BINDING_LEN];
    todo_token_w_t w;
    apr_size_t n = key ? strlen(key) : 0;

    if (!key || n > TODO_CURSOR_KEY_MAX || binding(q, bind)) {
        return NULL;
    }
    todo_token_w_init(&w, p);
    todo_token_put_u8(&w, VERSION);
    todo_token_put_u8(&w, (unsigned)q->sort);
    todo_token_put_bytes(&w, bind, sizeof(bind));
    if (todo_token_put_uuid(&w, id)) {
        return NULL;
    }
    todo_token_put_str(&w, key, n);
    return todo_token_seal(p, k, PURPOSE, user, w.data, w.len);
}

todo_cursor_status_e todo_cursor_open(apr_pool_t *p, const todo_token_key_t *k,
                                      const char *user,
                                      const todo_list_query_t *q,
                                      todo_cursor_t *out)
{
    const unsigned char *payload;
    unsigned char bind[BINDING_LEN], want[BINDING_LEN];
    apr_size_t len;
    todo_token_r_t r;
    unsigned version, sort;

    if (todo_token_open(p, k, PURPOSE, user, q->cursor, &payload, &len)) {
        return TODO_CURSOR_ALTERED;
    }
    todo_token_r_init(&r, payload, len);
    if (todo_token_get_u8(&r, &version) || version != VERSION
        || todo_token_get_u8(&r, &sort) || sort >= TODO_SORT_COUNT
        || todo_token_get_bytes(&r, bind, sizeof(bind))
        || todo_token_get_uuid(&r, p, &out->id)
        || todo_token_get_str(&r, p, TODO_CURSOR_KEY_MAX, &out->key, NULL)
        || !todo_token_r_done(&r)) {
        return TODO_CURSOR_ALTERED; /* sealed by us, so never seen */
    }
    if (binding(q, want) || sort != (unsigned)q->sort
        || memcmp(bind, want, sizeof(want))) {
        return TODO_CURSOR_OTHER_QUERY;
    }
    return TODO_CURSOR_OK;
}
