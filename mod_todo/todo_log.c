/* todo_log: the core's logging callback (see todo_log.h). */
#include "todo_log.h"

#include <apr_strings.h>

static todo_log_level_cb *level_of;
static todo_log_print_cb *print;
static void *log_baton;

void todo_log_set(todo_log_level_cb *level_cb, todo_log_print_cb *print_cb,
                  void *baton)
{
    level_of = level_cb;
    print = print_cb;
    log_baton = baton;
}

int todo_log_is_level(todo_log_level_e level)
{
    if (!print) {
        return 0;
    }
    return !level_of || level_of(log_baton, level);
}

void todo_log_perror(const char *file, int line, todo_log_level_e level,
                     apr_status_t rv, apr_pool_t *p, const char *fmt, ...)
{
    char buf[1024];
    const char *msg;
    va_list ap;

    if (!todo_log_is_level(level)) {
        return;
    }
    va_start(ap, fmt);
    if (p) {
        msg = apr_pvsprintf(p, fmt, ap);
    }
    else {
        /* Long lines are cut: the core's messages are short. */
        apr_vsnprintf(buf, sizeof(buf), fmt, ap);
        msg = buf;
    }
    va_end(ap);
    print(log_baton, file, line, level, rv, msg);
}
