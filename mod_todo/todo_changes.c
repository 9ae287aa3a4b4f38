/* todo_changes: snapshots, sync tokens (see todo_changes.h). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "todo_changes.h"

#define PURPOSE "sync"
#define VERSION 1
#define F_FULL 1u
#define F_MORE 2u
#define NIL_UUID "00000000-0000-0000-0000-000000000000"

/* ------------------------------------------------------------ snapshots */

/* A decimal transaction id (no sign, no blanks, fits 63 bits) at *s. */
static int xid_at(const char **s, apr_uint64_t *v)
{
    const char *c = *s;
    apr_uint64_t x = 0;

    /* Digits as PostgreSQL writes them: no sign, no leading zero. */
    if (*c < '0' || *c > '9' || (c[0] == '0' && c[1] >= '0' && c[1] <= '9')) {
        return -1;
    }
    for (; *c >= '0' && *c <= '9'; c++) {
        if (x > (APR_UINT64_C(0x7fffffffffffffff) - 9) / 10) {
            return -1;
        }
        x = x * 10 + (apr_uint64_t)(*c - '0');
    }
    *s = c;
    *v = x;
    return 0;
}

int todo_snapshot_parse(apr_pool_t *p, const char *text, todo_snapshot_t *s)
{
    const char *c = text ? text : "";
    const char *x;
    int n = 0;

    memset(s, 0, sizeof(*s));
    if (xid_at(&c, &s->xmin) || *c++ != ':' || xid_at(&c, &s->xmax)
        || *c++ != ':' || s->xmax < s->xmin) {
        return -1;
    }
    for (x = c; *x; x++) {
        n += *x == ',';
    }
    s->xip = apr_palloc(p, sizeof(apr_uint64_t) * (apr_size_t)(n + 1));
    while (*c) {
        apr_uint64_t v;

        if (xid_at(&c, &v) || v < s->xmin || v >= s->xmax
            || (s->nxip && v <= s->xip[s->nxip - 1])
            || (*c && (*c++ != ',' || !*c))) {
            return -1;
        }
        s->xip[s->nxip++] = v;
    }
    return 0;
}

const char *todo_snapshot_text(apr_pool_t *p, const todo_snapshot_t *s)
{
    todo_buf_t b;
    int i;

    todo_buf_init(&b, p, 48 + 21 * (apr_size_t)s->nxip);
    todo_buf_printf(&b, "%" APR_UINT64_T_FMT ":%" APR_UINT64_T_FMT ":",
                    s->xmin, s->xmax);
    for (i = 0; i < s->nxip; i++) {
        todo_buf_printf(&b, "%s%" APR_UINT64_T_FMT, i ? "," : "", s->xip[i]);
    }
    return todo_buf_cstr(&b);
}

void todo_snapshot_bound(todo_snapshot_t *s)
{
    if (s->nxip > TODO_SNAPSHOT_MAX_XIP) {
        s->xmax = s->xmin;
        s->nxip = 0;
    }
}

static void put_snapshot(todo_token_w_t *w, const todo_snapshot_t *s)
{
    apr_uint64_t last = s->xmin;
    int i;

    todo_token_put_varint(w, s->xmin);
    todo_token_put_varint(w, s->xmax - s->xmin);
    todo_token_put_varint(w, (apr_uint64_t)s->nxip);
    for (i = 0; i < s->nxip; i++) {
        todo_token_put_varint(w, s->xip[i] - last);
        last = s->xip[i];
    }
}

static int get_snapshot(todo_token_r_t *r, apr_pool_t *p, todo_snapshot_t *s)
{
    apr_uint64_t span, n, d, last;
    int i;

    if (todo_token_get_varint(r, &s->xmin) || todo_token_get_varint(r, &span)
        || todo_token_get_varint(r, &n) || n > TODO_SNAPSHOT_MAX_XIP
        || s->xmin > APR_UINT64_C(0x7fffffffffffffff)
        || span > APR_UINT64_C(0x7fffffffffffffff) - s->xmin) {
        return -1;
    }
    s->xmax = s->xmin + span;
    s->nxip = (int)n;
    s->xip = apr_palloc(p, sizeof(apr_uint64_t) * (apr_size_t)(n + 1));
    last = s->xmin;
    for (i = 0; i < s->nxip; i++) {
        /* Increasing (the first may equal xmin), inside [xmin, xmax). */
        if (todo_token_get_varint(r, &d) || (i && !d) || d >= s->xmax - last) {
            return -1;
        }
        last += d;
        s->xip[i] = last;
    }
    return 0;
}

/* ------------------------------------------------------------- tokens */

const char *todo_changes_token(apr_pool_t *p, const todo_token_key_t *k,
                               const char *user, const todo_sync_t *t)
{
    todo_token_w_t w;

    todo_token_w_init(&w, p);
    todo_token_put_u8(&w, VERSION);
    todo_token_put_u8(&w, (t->full ? F_FULL : 0) | (t->more ? F_MORE : 0));
    if (!t->full) {
        todo_token_put_varint(&w, (apr_uint64_t)t->since_time);
        put_snapshot(&w, &t->since);
    }
    if (t->more) {
        todo_token_put_varint(&w, (apr_uint64_t)t->upto_time);
        put_snapshot(&w, &t->upto);
        /* -1 (before everything) is 0 here. */
        todo_token_put_varint(&w, (apr_uint64_t)(t->pos_xid + 1));
        if (todo_token_put_uuid(&w, t->pos_id)) {
            return NULL;
        }
    }
    return todo_token_seal(p, k, PURPOSE, user, w.data, w.len);
}

int todo_changes_open(apr_pool_t *p, const todo_token_key_t *k,
                      const char *user, const char *token, todo_sync_t *t)
{
    const unsigned char *payload;
    apr_size_t len;
    todo_token_r_t r;
    unsigned version, flags;
    apr_uint64_t v;

    memset(t, 0, sizeof(*t));
    if (todo_token_open(p, k, PURPOSE, user, token, &payload, &len)) {
        return -1;
    }
    todo_token_r_init(&r, payload, len);
    if (todo_token_get_u8(&r, &version) || version != VERSION
        || todo_token_get_u8(&r, &flags)
        || (flags & ~(F_FULL | F_MORE))
        /* A full sync's token always has a page to follow. */
        || flags == F_FULL) {
        return -1;
    }
    t->full = (flags & F_FULL) != 0;
    t->more = (flags & F_MORE) != 0;
    if (!t->full) {
        if (todo_token_get_varint(&r, &v) || v > APR_INT64_MAX
            || get_snapshot(&r, p, &t->since)) {
            return -1;
        }
        t->since_time = (apr_int64_t)v;
    }
    if (t->more) {
        if (todo_token_get_varint(&r, &v) || v > APR_INT64_MAX
            || get_snapshot(&r, p, &t->upto)) {
            return -1;
        }
        t->upto_time = (apr_int64_t)v;
        if (todo_token_get_varint(&r, &v) || v > APR_INT64_MAX
            || todo_token_get_uuid(&r, p, &t->pos_id)) {
            return -1;
        }
        t->pos_xid = (apr_int64_t)v - 1;
    }
    return todo_token_r_done(&r) ? 0 : -1;
}

void todo_changes_position(const todo_sync_t *t, apr_int64_t *xid,
                           const char **id)
{
    if (t->more) {
        *xid = t->pos_xid;
        *id = t->pos_id;
    }
    else {
        *xid = t->full ? -1 : (apr_int64_t)t->since.xmin;
        *id = NIL_UUID;
    }
}

void todo_changes_json_tombstone(todo_buf_t *b, const char *id,
                                 const char *deleted_at)
{
    todo_buf_puts(b, "{\"id\":");
    todo_buf_json_string(b, id);
    todo_buf_puts(b, ",\"deleted\":true,\"deleted_at\":");
    todo_buf_json_string(b, deleted_at);
    todo_buf_putc(b, '}');
}
