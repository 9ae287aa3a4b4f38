/* mod_todo_config: directives, the per-directory configuration with its
 * create/merge functions, and the startup pass that finds the todo
 * locations and validates them (so "apachectl configtest" refuses a
 * configuration that cannot be safe). */
#ifndef MOD_TODO_CONFIG_H
#define MOD_TODO_CONFIG_H

#include <apr_hash.h>

#include "mod_todo_private.h"
#include "todo_jwt.h"

/* Unset sentinels: a field keeps them until a directive sets it, so merge
 * can tell "inherit" from "set to the default". */
#define TODO_UNSET (-1)

typedef struct todo_auth todo_auth_t;

typedef struct todo_dir_cfg {
    /* Authentication. */
    unsigned algs;                     /* TODO_ALG_BIT mask; 0 = unset */
    todo_jwt_keyset_t *keys;           /* keys of this section; NULL = unset */
    int has_secret;                    /* keys holds an HMAC secret */
    const char *jwks_url;
    int jwks_refresh;                  /* seconds */
    const char *issuer;
    const char *audience;
    int leeway;                        /* seconds */
    const char *user_claim;
    /* The API. */
    int foreign_status;                /* 404 or 403 */
    apr_array_header_t *cors_origins;  /* of const char *; NULL = unset */
    apr_off_t max_body;
    int page_default;
    int page_max;
    /* The docs page (P/docs). */
    int docs;                          /* on 1, off 0 */
    const char *docs_assets;           /* Swagger UI's URL prefix */
    /* Derived at startup for the sections with "SetHandler todo". */
    const char *prefix;                /* route prefix P; NULL: not ours */
    todo_auth_t *auth;                 /* the verifier for P */
    /* A main-server <Location> is served by every virtual host too, with
     * that host's Todo* defaults: server_rec * -> todo_auth_t *, for the
     * hosts whose defaults give P another verifier.  NULL: none. */
    apr_hash_t *vauth;
} todo_dir_cfg;

/* The verifier of P for a request to server s. */
const todo_auth_t *todo_cfg_auth(const todo_dir_cfg *c, const server_rec *s);

/* Effective values, with defaults applied to unset fields. */
#define TODO_DEFAULT_ALGS        TODO_ALG_BIT(TODO_ALG_HS256)
#define TODO_DEFAULT_REFRESH     60
#define TODO_DEFAULT_LEEWAY      30
#define TODO_DEFAULT_USER_CLAIM  "sub"
#define TODO_DEFAULT_FOREIGN     404
#define TODO_DEFAULT_MAX_BODY    16384
#define TODO_DEFAULT_PAGE        50
#define TODO_DEFAULT_PAGE_MAX    100
#define TODO_DEFAULT_DOCS        1
/* Like FastAPI's /docs: a public CDN copy of swagger-ui-dist 5. */
#define TODO_DEFAULT_DOCS_ASSETS \
    "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

/* Per server: the route prefixes it serves, so map_to_storage can skip
 * the file system for them. */
typedef struct {
    apr_array_header_t *prefixes;      /* of const char * */
} todo_srv_cfg;

extern const command_rec todo_cmds[];

void *todo_config_create_srv(apr_pool_t *p, server_rec *s);

void *todo_config_create_dir(apr_pool_t *p, char *dir);
void *todo_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

int todo_cfg_foreign_status(const todo_dir_cfg *c);
apr_off_t todo_cfg_max_body(const todo_dir_cfg *c);
int todo_cfg_page_default(const todo_dir_cfg *c);
int todo_cfg_page_max(const todo_dir_cfg *c);
int todo_cfg_docs(const todo_dir_cfg *c);
const char *todo_cfg_docs_assets(const todo_dir_cfg *c);

/* check_config: find every <Location> with "SetHandler todo" (in the main
 * server and each virtual host), set its prefix, validate its effective
 * configuration and build its verifier.  Returns OK or !OK after logging
 * one line that names the offending directive.  *servers_out receives the
 * servers that have at least one todo location (for mod_dbd statements). */
int todo_config_check(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                      apr_array_header_t **servers_out);

#endif
