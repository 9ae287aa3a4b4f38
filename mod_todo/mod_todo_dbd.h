/* mod_todo_dbd: running the statements of todo_sql through mod_dbd's
 * pooled connections, and keeping those connections usable across a
 * PostgreSQL restart.  The service itself (todo_dbd_run and friends) is
 * declared in mod_todo_req.h, for the other glue files; this header holds
 * what the hub calls at startup. */
#ifndef MOD_TODO_DBD_H
#define MOD_TODO_DBD_H

#include "mod_todo_req.h"

/* Fetch mod_dbd's functions; NULL, or why mod_todo cannot work. */
const char *todo_dbd_init(void);

/* child_init, before mod_dbd's: give libpq a HOME this child can read
 * (see mod_todo_dbd.c). */
void todo_dbd_child_init(apr_pool_t *p, server_rec *s);

/* Register every statement with mod_dbd for server s, so each pooled
 * connection prepares them once.  Must run before mod_dbd's post_config. */
void todo_dbd_prepare_all(server_rec *s);

/* After todo_config_check: one outage gate (todo_dbgate) per database
 * of the servers that have todo locations.  NULL, or why not. */
const char *todo_dbd_gates(apr_pool_t *pconf,
                           const apr_array_header_t *servers);

#endif
