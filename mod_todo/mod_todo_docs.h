/* mod_todo_docs: GET P/docs and P/docs/init.js, the interactive API
 * documentation (Swagger UI for P/openapi.json; the text is made by the
 * core's todo_docs). */
#ifndef MOD_TODO_DOCS_H
#define MOD_TODO_DOCS_H

#include "mod_todo_private.h"

/* Whether the request is for a docs route of a location with "TodoDocs
 * off": there the routes do not exist (404, whatever the method). */
int todo_docs_off(const todo_req_t *q);

/* Answer GET or HEAD of P/docs (the page, with its Content-Security-
 * Policy) or of P/docs/init.js. */
int todo_docs_handler(request_rec *r, const todo_req_t *q);

#endif
