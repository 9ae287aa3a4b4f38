/* todo_fetch: fetch a small document over http(s) with libcurl, bounded in
 * time and size.  Used for the JWKS URL; free of httpd. */
#ifndef TODO_FETCH_H
#define TODO_FETCH_H

#include <apr_pools.h>
#include <apr_time.h>

/* Largest document accepted (a JWKS is a few KiB). */
#define TODO_FETCH_MAX_BYTES (256 * 1024)

/* Process-wide libcurl initialisation; call once before threads start. */
void todo_fetch_global_init(void);

/* NULL when url is an absolute http:// or https:// URL with a host,
 * otherwise a one-line reason. */
const char *todo_fetch_check_url(apr_pool_t *p, const char *url);

/* GET url (no redirects to other schemes, at most 3 redirects), failing
 * after `timeout`.  Non-2xx answers, bodies over TODO_FETCH_MAX_BYTES and
 * transport errors fail with a reason in *err.  The body is allocated in p
 * and NUL-terminated. */
apr_status_t todo_fetch_get(apr_pool_t *p, const char *url,
                            apr_interval_time_t timeout, char **body,
                            apr_size_t *len, const char **err);

#endif
