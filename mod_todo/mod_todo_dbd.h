/* mod_todo_dbd: running the statements of todo_sql through mod_dbd's pooled
 * connections, and keeping those connections usable across a PostgreSQL
 * restart. */
#ifndef MOD_TODO_DBD_H
#define MOD_TODO_DBD_H

#include <apr_dbd.h>
#include "mod_todo_private.h"
#include "todo_sql.h"

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_results_t *res;
    int nrows;
    apr_dbd_row_t *row;            /* the current row */
} todo_rows_t;

/* Fetch mod_dbd's functions; NULL, or why mod_todo cannot work. */
const char *todo_dbd_init(void);

/* child_init, before mod_dbd's: give libpq a HOME this child can read
 * (see mod_todo_dbd.c). */
void todo_dbd_child_init(apr_pool_t *p, server_rec *s);

/* Register every statement with mod_dbd for server s, so each pooled
 * connection prepares them once.  Must run before mod_dbd's post_config. */
void todo_dbd_prepare_all(server_rec *s);

/* Run a statement.  Returns OK with the rows, or the HTTP status to answer:
 * 503 when the database is unreachable, 400/409 for data the database
 * refused, 500 otherwise (details go to the error log only).  `idempotent`
 * says whether the statement may be sent again after a connection was
 * lost mid-request. */
int todo_dbd_run(request_rec *r, todo_stmt_e which, const char **args,
                 int idempotent, todo_rows_t *rows);

/* Select row n (0-based); 0 on success.  Column values stay valid for the
 * life of the request pool. */
int todo_dbd_row(request_rec *r, todo_rows_t *rows, int n);

/* Column col of the current row, or NULL for SQL NULL. */
const char *todo_dbd_col(const todo_rows_t *rows, int col);

#endif
