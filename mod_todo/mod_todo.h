/* mod_todo: a multi-user todo REST API for Apache httpd 2.4.
 *
 * mod_todo.c is the hub: the module record and the hook registrations.
 * The glue files (mod_todo_*.c) do the httpd side -- request state
 * (mod_todo_req.c), directives (mod_todo_config.c), the access checker
 * (mod_todo_auth.c), the handler and JSON errors (mod_todo_api.c), mod_dbd
 * (mod_todo_dbd.c) -- on top of the httpd-free core in todo_*.c.  See
 * CONTRIBUTING.md for the whole layout. */
#ifndef MOD_TODO_H
#define MOD_TODO_H

/* Set by the build from configure.ac's AC_INIT (httpd's own headers
 * define PACKAGE_VERSION, so config.h cannot be included here). */
#ifndef MOD_TODO_VERSION
#error "MOD_TODO_VERSION must be defined by the build (Makefile.am)"
#endif

#endif
