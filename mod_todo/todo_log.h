/* todo_log: logging for the httpd-free core, modelled on mod_md's md_log.
 *
 * The core does not know httpd: it logs through a callback the glue
 * installs once at startup (mod_todo.c sends the lines to httpd's error
 * log under "LogLevel todo:..."); the unit tests install their own or none,
 * and without a callback nothing is logged.  Levels are syslog's, as
 * httpd's APLOG_* are, so the glue maps them one to one. */
#ifndef TODO_LOG_H
#define TODO_LOG_H

#include <stdarg.h>
#include <apr_errno.h>
#include <apr_pools.h>

typedef enum {
    TODO_LOG_EMERG,
    TODO_LOG_ALERT,
    TODO_LOG_CRIT,
    TODO_LOG_ERR,
    TODO_LOG_WARNING,
    TODO_LOG_NOTICE,
    TODO_LOG_INFO,
    TODO_LOG_DEBUG
} todo_log_level_e;

/* Our own tag for a log line ("TODO0105: "); APLOGNO numbers are httpd's.
 * Every tag is listed in docs/operations.md. */
#define TODO_LOGNO(n) "TODO" #n ": "

#define TODO_LOG_MARK __FILE__, __LINE__

/* Whether a line of this level would be written at all. */
typedef int todo_log_level_cb(void *baton, todo_log_level_e level);

/* Write one line: the message is already formatted. */
typedef void todo_log_print_cb(void *baton, const char *file, int line,
                               todo_log_level_e level, apr_status_t rv,
                               const char *msg);

/* Install the callbacks (once, before threads start); NULL removes them. */
void todo_log_set(todo_log_level_cb *level_cb, todo_log_print_cb *print_cb,
                  void *baton);

int todo_log_is_level(todo_log_level_e level);

/* Format in p (or on the stack when p is NULL) and hand to the callback. */
void todo_log_perror(const char *file, int line, todo_log_level_e level,
                     apr_status_t rv, apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
