/* sqltext LABEL VAR... : print the module's statement LABEL (from
 * mod_todo/todo_sql.c, the very text mod_dbd prepares) with its
 * placeholders replaced by pgbench variables, in order:
 *   sqltext todo_get :u :t
 * so that pgbench runs exactly the module's SQL for the ceiling.
 * sqltext --session prints the session settings the module gives its
 * connections, as PGOPTIONS for pgbench ("-c name=value ...");
 * sqltext --list every statement's label and argument count, one a line
 * (bench/scope.sh EXPLAINs them all). */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include "todo_sql.h"

int main(int argc, char **argv)
{
    int i, arg = 2;
    const todo_stmt_t *st = NULL;
    const char *s;

    if (argc == 2 && !strcmp(argv[1], "--session")) {
        puts(TODO_SQL_SESSION_PGOPTIONS);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (i = 0; i < TODO_STMT_COUNT; i++) {
            st = todo_sql_stmt((todo_stmt_e)i);
            printf("%s %d\n", st->label, st->nargs);
        }
        return 0;
    }
    for (i = 0; i < TODO_STMT_COUNT; i++) {
        const todo_stmt_t *c = todo_sql_stmt((todo_stmt_e)i);

        if (argc > 1 && !strcmp(c->label, argv[1])) {
            st = c;
        }
    }
    if (!st || argc - 2 != st->nargs) {
        fprintf(stderr, "usage: sqltext LABEL VAR... (%d vars)\n",
                st ? st->nargs : -1);
        return 2;
    }
    for (s = st->sql; *s; s++) {
        if (s[0] == '%' && s[1] == '%') {
            putchar('%');
            s++;
        }
        else if (s[0] == '%' && s[1] == 's') {
            fputs(argv[arg++], stdout);
            s++;
        }
        else {
            putchar(*s);
        }
    }
    putchar('\n');
    return 0;
}
