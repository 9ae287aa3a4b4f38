/* mod_todo_config: the Todo* directives, the per-directory configuration
 * with its create/merge functions and defaults, and the startup pass that
 * finds the todo locations, validates them and resolves each into a
 * todo_site_t (so "apachectl configtest" refuses a configuration that
 * cannot be safe). */
#ifndef MOD_TODO_CONFIG_H
#define MOD_TODO_CONFIG_H

#include <apr_hash.h>

#include "mod_todo_req.h"

/* Unset sentinel: a field keeps it until a directive sets it, so merge can
 * tell "inherit" from "set". */
#define TODO_UNSET (-1)

typedef struct todo_dir_cfg {
    /* Authentication. */
    unsigned algs;     /* TODO_ALG_BIT mask; 0 = unset */
    todo_keys_t *keys; /* keys of this section; NULL = unset */
    int has_secret;    /* keys holds an HMAC secret */
    const char *jwks_url;
    int jwks_refresh; /* seconds */
    const char *issuer;
    const char *audience;
    int leeway; /* seconds */
    const char *user_claim;
    /* The API. */
    int foreign_status;               /* 404 or 403 */
    apr_array_header_t *cors_origins; /* of const char *; NULL = unset */
    apr_off_t max_body;
    int page_default;
    int page_max;
    /* The docs page (P/docs). */
    int docs;                /* TodoDocs: 1 on, 0 off */
    const char *docs_assets; /* TodoDocsAssets: Swagger UI's URL prefix */
    int rate_requests;       /* TodoRateLimit; 0: off, TODO_UNSET: unset */
    int rate_seconds;
    int rate_burst;     /* 0: as many as requests */
    int idem_retention; /* TodoIdempotencyRetention, seconds */
    int tomb_retention; /* TodoTombstoneRetention, seconds */
    /* Set at startup on the sections with "SetHandler todo". */
    const todo_site_t *site; /* NULL: not a todo location */
    /* A main-server <Location> is served by every virtual host too, with
     * that host's Todo* defaults: server_rec * -> todo_site_t *.  NULL:
     * none differ. */
    apr_hash_t *vsites;
} todo_dir_cfg;

/* Per server: the route prefixes it serves, so map_to_storage can skip
 * the file system for them. */
typedef struct {
    apr_array_header_t *prefixes; /* of const char * */
} todo_srv_cfg;

/* For the module record. */
extern const command_rec todo_config_cmds[];
void *todo_config_create_srv(apr_pool_t *p, server_rec *s);
void *todo_config_create_dir(apr_pool_t *p, char *dir);
void *todo_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

/* check_config: find every <Location> with "SetHandler todo" (in the main
 * server and each virtual host), validate its effective configuration and
 * resolve it into a site.  Returns OK or !OK after logging one line that
 * names the offending directive.  *servers_out receives the servers that
 * have at least one todo location (for mod_dbd statements). */
int todo_config_check(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                      apr_array_header_t **servers_out);

#endif
