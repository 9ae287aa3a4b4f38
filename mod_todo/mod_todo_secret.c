/* The key that seals list cursors and sync tokens (docs/api.md §5, §10):
 * made by the database (sql/deploy/token_key.sql), read by each Apache
 * child the first time a request needs it, and kept for the child's life
 * -- one per server, since each server (virtual host) may point mod_dbd
 * at its own database.  So every child, and every Apache server sharing
 * the database, seals and opens tokens with the same key, across
 * restarts.  Rotating it in the database takes a reload to reach the
 * children (docs/operations.md). */
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "mod_todo_req.h"
#include "todo_text.h"

static apr_pool_t *child_pool;
static apr_thread_mutex_t *lock;
static apr_hash_t *keys; /* server_rec * -> todo_token_key_t * */

void todo_secret_child_init(apr_pool_t *p, server_rec *s)
{
    (void)s;
    child_pool = p;
    keys = apr_hash_make(p);
    if (apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, p)
        != APR_SUCCESS) {
        lock = NULL; /* then every request reads the key itself */
    }
}

static const todo_token_key_t *cached(const server_rec *s)
{
    const todo_token_key_t *k = NULL;

    if (lock && apr_thread_mutex_lock(lock) == APR_SUCCESS) {
        k = apr_hash_get(keys, &s, sizeof(s));
        apr_thread_mutex_unlock(lock);
    }
    return k;
}

static void keep(server_rec *s, const todo_token_key_t *k)
{
    if (lock && apr_thread_mutex_lock(lock) == APR_SUCCESS) {
        if (!apr_hash_get(keys, &s, sizeof(s))) {
            todo_token_key_t *c = apr_palloc(child_pool, sizeof(*c));
            server_rec **sp = apr_palloc(child_pool, sizeof(*sp));

            c->data = apr_pmemdup(child_pool, k->data, k->len);
            c->len = k->len;
            *sp = s;
            apr_hash_set(keys, sp, sizeof(*sp), c);
        }
        apr_thread_mutex_unlock(lock);
    }
}

/* The hex text of the key as the database sends it. */
static int from_hex(apr_pool_t *p, const char *hex, todo_token_key_t *k)
{
    apr_size_t n = hex ? strlen(hex) : 0, i;
    unsigned char *d;

    if (n % 2 || n / 2 < TODO_TOKEN_KEY_MIN) {
        return -1;
    }
    d = apr_palloc(p, n / 2);
    for (i = 0; i < n / 2; i++) {
        int hi = todo_text_hex_value((unsigned char)hex[2 * i]);
        int lo = todo_text_hex_value((unsigned char)hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }
        d[i] = (unsigned char)(hi << 4 | lo);
    }
    k->data = d;
    k->len = n / 2;
    return 0;
}

int todo_secret_get(request_rec *r, todo_token_key_t *key)
{
    const todo_token_key_t *k = cached(r->server);
    todo_rows_t rows;
    int st;

    if (k) {
        *key = *k;
        return OK;
    }
    st = todo_dbd_run(r, TODO_STMT_TOKEN_KEY, NULL, 1, &rows);
    if (st != OK) {
        return st;
    }
    if (todo_dbd_row(r, &rows, 0)
        || from_hex(r->pool, todo_dbd_col(&rows, 0), key)) {
        todo_rlog(r, APLOG_ERR, 0, 0212,
                  "the token key (table token_key) is missing or shorter "
                  "than %d bytes: cursors and sync tokens cannot be made",
                  TODO_TOKEN_KEY_MIN);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    keep(r->server, key);
    return OK;
}
