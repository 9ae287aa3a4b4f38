/* todo_changes: the state of a sync (docs/api.md §10) -- PostgreSQL
 * snapshots and the sync tokens that carry them -- and the JSON of a
 * tombstone.  Free of httpd.
 *
 * A sync reads, in (change_xid, id) order, the user's tasks and
 * tombstones whose last writing transaction
 *   - the snapshot `since` did not see as committed (all of them in a
 *     full sync, which has no since; tombstones only in a delta sync), and
 *   - the snapshot `upto` did see: the first page's own snapshot, kept for
 *     the later pages of the same sync,
 * after the position of the last change a page delivered.  Its last page
 * hands out the token {since: upto}.  todo_sql.c has the statement, and
 * docs/api.md §10 why nothing is missed or repeated.
 */
#ifndef TODO_CHANGES_H
#define TODO_CHANGES_H

#include <apr_pools.h>
#include "todo_buf.h"
#include "todo_token.h"

/* A snapshot carries at most this many running transactions; one with
 * more is replaced by the safe approximation "nothing from xmin on is
 * seen" (todo_snapshot_bound), which only makes the next sync repeat a few
 * changes.  Keeps tokens short. */
#define TODO_SNAPSHOT_MAX_XIP 64

/* pg_snapshot: every transaction id below xmin is finished; from xmax on
 * none had started; in between, those in xip were running. */
typedef struct {
    apr_uint64_t xmin, xmax;
    int nxip;
    apr_uint64_t *xip; /* increasing */
} todo_snapshot_t;

/* PostgreSQL's text of a pg_snapshot ("10:20:10,14,15"): 0, or -1 when it
 * is not exactly that (decimal numbers, xmin <= xip < xmax, increasing). */
int todo_snapshot_parse(apr_pool_t *p, const char *text, todo_snapshot_t *s);

/* The text of s, for CAST(... AS pg_snapshot), in p. */
const char *todo_snapshot_text(apr_pool_t *p, const todo_snapshot_t *s);

/* Keep at most TODO_SNAPSHOT_MAX_XIP running transactions: beyond, make s
 * see nothing from xmin on (xmax = xmin, no xip), which sees less than s
 * did and so, as a sync's bound, never skips a change. */
void todo_snapshot_bound(todo_snapshot_t *s);

/* Where a sync stands. */
typedef struct {
    int full;               /* no since: every current task */
    int more;               /* a page is to follow: upto and pos are set */
    apr_int64_t since_time; /* when since was taken (apr_time_t seconds) */
    todo_snapshot_t since;  /* not in a full sync */
    apr_int64_t upto_time;  /* when upto was taken (seconds) */
    todo_snapshot_t upto;   /* more: the sync's first snapshot */
    apr_int64_t pos_xid;    /* more: the last change delivered */
    const char *pos_id;
} todo_sync_t;

/* The token of t for user, in p (NULL on failure). */
const char *todo_changes_token(apr_pool_t *p, const todo_token_key_t *k,
                               const char *user, const todo_sync_t *t);

/* Open a token made for user: 0 with *t, or -1 (altered, another user's,
 * not a sync token). */
int todo_changes_open(apr_pool_t *p, const todo_token_key_t *k,
                      const char *user, const char *token, todo_sync_t *t);

/* Where the next page starts: after (xid, id) in (change_xid, id) order --
 * the position of a continued sync, else the start of the range: since's
 * xmin (nothing below it is new), or -1 for a full sync. */
void todo_changes_position(const todo_sync_t *t, apr_int64_t *xid,
                           const char **id);

/* {"id":"...","deleted":true,"deleted_at":"..."} */
void todo_changes_json_tombstone(todo_buf_t *b, const char *id,
                                 const char *deleted_at);

#endif
