/* mod_todo: a multi-user todo REST API for Apache httpd 2.4.
 *
 * mod_todo.c holds the module record and the hooks; the work is done in
 * mod_todo_config.c (directives), mod_todo_auth.c (access checker),
 * mod_todo_api.c (handler) and mod_todo_dbd.c (mod_dbd), on top of the
 * httpd-free core in todo_*.c. */
#ifndef MOD_TODO_H
#define MOD_TODO_H

#define MOD_TODO_VERSION "0.1.0"

#endif
