/* todo_etag: ETags and conditional requests.  Free of httpd. */
#ifndef TODO_ETAG_H
#define TODO_ETAG_H

#include <apr_pools.h>

/* ETags.  A task's ETag is the quoted decimal version: "\"7\"".
 * todo_etag_write writes it into out (>= 24 bytes). */
void todo_etag_write(char *out, apr_int64_t version);

/* If-None-Match (weak comparison, RFC 9110 13.1.2): 1 when the header
 * value lists "*" or an ETag (weak or strong) equal to version's. */
int todo_etag_none_match(const char *header, apr_int64_t version);

/* If-Match (strong comparison, RFC 9110 13.1.1), turned into what the SQL
 * condition needs: NULL when header is NULL or lists "*" (no version
 * condition), otherwise a PostgreSQL int array literal of the versions it
 * names, e.g. "{3,4}" -- "{}" when it names none we could ever have (weak
 * or malformed tags), which makes the write fail with 412. */
const char *todo_etag_match_versions(apr_pool_t *p, const char *header);

#endif
