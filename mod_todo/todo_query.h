/* todo_query: the list query string of GET .../tasks (docs/api.md §5).
 * Free of httpd. */
#ifndef TODO_QUERY_H
#define TODO_QUERY_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef enum {
    TODO_SORT_CREATED_DESC = 0, /* default: "-created_at" */
    TODO_SORT_CREATED_ASC,
    TODO_SORT_UPDATED_ASC,
    TODO_SORT_UPDATED_DESC,
    TODO_SORT_DUE_ASC,
    TODO_SORT_DUE_DESC,
    TODO_SORT_PRIORITY_ASC,
    TODO_SORT_PRIORITY_DESC,
    TODO_SORT_TITLE_ASC,
    TODO_SORT_TITLE_DESC,
    TODO_SORT_COUNT
} todo_sort_e;

typedef enum {
    TODO_STATUS_ALL = 0,
    TODO_STATUS_PENDING,
    TODO_STATUS_COMPLETED
} todo_status_e;

typedef struct {
    todo_status_e status;
    todo_sort_e sort;
    int limit;
    long offset;
    const char *q;          /* NULL when absent */
    const char *due_before; /* normalized RFC 3339, NULL when absent */
    const char *due_after;
    const char *updated_since;
    const char *cursor; /* next_cursor of a previous page, NULL when absent */
} todo_list_query_t;

/* The query of GET .../changes (docs/api.md §10). */
typedef struct {
    const char *since; /* a sync token, NULL for a full sync */
    int limit;
} todo_changes_query_t;

#define TODO_Q_MAX_LEN 200
#define TODO_OFFSET_MAX 1000000000L
/* Longest cursor or sync token accepted (characters; todo_token.h). */
#define TODO_QUERY_TOKEN_MAX 4096

/* Parse r->args-style text (may be NULL): '&'-separated name=value pairs,
 * percent- and '+'-decoded.  Parameters: status (pending|completed|all,
 * case-insensitive), sort (created_at, updated_at, due_at, priority, title,
 * each optionally prefixed by '-', plus created_at_asc/created_at_desc),
 * limit (1..max_limit), offset (0..TODO_OFFSET_MAX), q (1..200 characters
 * of valid UTF-8 after decoding, no control characters; an empty q is
 * the same as no q), due_before, due_after,
 * updated_since (RFC 3339), cursor (base64url, at most
 * TODO_QUERY_TOKEN_MAX characters; not with offset).  An unknown or
 * repeated parameter, an empty or bad value -> returns 400 with
 * todo_detail_t entries (field = parameter name) pushed onto details.
 * Returns 0 on success.  Whether a cursor is genuine and made for this
 * sort and these filters is todo_cursor's to say. */
int todo_query_parse(apr_pool_t *p, const char *args, int default_limit,
                     int max_limit, todo_list_query_t *q,
                     apr_array_header_t *details);

/* The query of GET .../changes: since (base64url, at most
 * TODO_QUERY_TOKEN_MAX characters) and limit (1..max_limit, default
 * default_limit); the same rules and answer as todo_query_parse. */
int todo_query_parse_changes(apr_pool_t *p, const char *args,
                             int default_limit, int max_limit,
                             todo_changes_query_t *q,
                             apr_array_header_t *details);

/* The query string of the page after q, at cursor: q's sort, filters and
 * limit in their canonical spelling, percent-encoded, then cursor (no
 * offset).  For the Link header of a list (docs/api.md §5), in p. */
const char *todo_query_next(apr_pool_t *p, const todo_list_query_t *q,
                            const char *cursor);

/* The canonical spelling of a sort ("-created_at", "title", ...). */
const char *todo_query_sort_name(todo_sort_e sort);

#endif
