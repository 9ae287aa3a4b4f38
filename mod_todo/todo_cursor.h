/* todo_cursor: the keyset cursors of GET .../tasks (docs/api.md §5).  Free
 * of httpd.
 *
 * A page's next_cursor names the last task of the page by its sort key
 * and id; the next page is "the tasks after (key, id) in the sort's
 * order", an index range scan however deep (todo_sql.c).  The key is the
 * text the database wrote for it (a timestamp with its offset, a
 * priority, a lower-cased title), so it compares exactly as it did.
 *
 * A cursor is bound to the query it was made for: its sort, its status,
 * q, due_before, due_after and updated_since (not limit: pages may
 * change size).  It is sealed by todo_token with the purpose "cursor" and
 * the user, so a cursor that was altered, or made for another user, does
 * not open; one made for another sort or filters opens but does not fit.
 */
#ifndef TODO_CURSOR_H
#define TODO_CURSOR_H

#include <apr_pools.h>
#include "todo_query.h"
#include "todo_token.h"

/* Longest sort key a cursor carries: a lower-cased title of 200
 * characters, up to 4 bytes each, with room to spare. */
#define TODO_CURSOR_KEY_MAX 1024

typedef struct {
    const char *key; /* the last task's sort key, as the database wrote it */
    const char *id;  /* the last task's id (lower-case UUID text) */
} todo_cursor_t;

/* The cursor after the task (key, id) for query q, sealed for user: the
 * token text in p, or NULL when id is not a UUID or key is too long. */
const char *todo_cursor_make(apr_pool_t *p, const todo_token_key_t *k,
                             const char *user, const todo_list_query_t *q,
                             const char *key, const char *id);

typedef enum {
    TODO_CURSOR_OK = 0,
    TODO_CURSOR_ALTERED,    /* not one of ours: altered, or another user's */
    TODO_CURSOR_OTHER_QUERY /* genuine, but for another sort or filters */
} todo_cursor_status_e;

/* Open q->cursor for user and check it fits q. */
todo_cursor_status_e todo_cursor_open(apr_pool_t *p, const todo_token_key_t *k,
                                      const char *user,
                                      const todo_list_query_t *q,
                                      todo_cursor_t *out);

#endif
