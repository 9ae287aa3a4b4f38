#!/usr/bin/env bash
# The house rules a machine can check, run by scripts/test.sh (and by hand:
# `bash scripts/style.sh`).  Fails, naming the file, when
#  1. a C file does not match .clang-format (httpd's style; fix it with
#     `clang-format -i FILE`);
#  2. a body lacks its braces (clang-tidy's readability-braces-around-
#     statements; fix it with the same check's -fix);
#  3. a path or method rule of the API appears outside the router
#     (mod_todo/todo_route.c);
#  4. a glue file (mod_todo_*.c) calls a function defined in another glue
#     file other than those declared in mod_todo_req.h, the one header the
#     glue files share (the hub, mod_todo.c, wires hooks and may call any);
#  5. a static function is named todo_* (that prefix is for exports).
# Needs clang-format, clang-tidy, and the build's -dev packages.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
bad() { printf 'style: %s\n' "$*" >&2; fail=1; }

mapfile -t cfiles < <(git ls-files -co --exclude-standard \
  'mod_todo/*.c' 'mod_todo/*.h' 't/unit/*.c' 't/unit/*.h' 't/fuzz/*.c' \
  't/tools/*.c' 'tools/*.c' 'bench/*.c' 2>/dev/null || true)
[ ${#cfiles[@]} -gt 0 ] || mapfile -t cfiles < <(ls mod_todo/*.[ch] t/unit/*.[ch] \
  t/fuzz/*.c t/tools/*.c tools/*.c bench/*.c)

# 1. clang-format
for f in "${cfiles[@]}"; do
  [ -f "$f" ] || continue
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 \
    || bad "$f does not match .clang-format (clang-format -i $f)"
done

# 2. braces everywhere (clang-format 14 cannot insert them)
flags=($(apxs -q EXTRA_CPPFLAGS) -I"$(apxs -q INCLUDEDIR)"
       $(apr-1-config --cppflags --includes) $(apu-1-config --includes)
       $(pkg-config --cflags jansson openssl libcurl cmocka libpq libjwt)
       -Imod_todo -It/unit -DTODO_TEST_DATA='"x"' -DMOD_TODO_VERSION='"x"')
csrc=()
for f in "${cfiles[@]}"; do case $f in *.c) [ -f "$f" ] && csrc+=("$f");; esac; done
if ! out=$(clang-tidy --quiet -checks='-*,readability-braces-around-statements' \
             --warnings-as-errors='*' "${csrc[@]}" -- "${flags[@]}" 2>&1); then
  printf '%s\n' "$out" | grep -E 'error|warning' >&2 || printf '%s\n' "$out" >&2
  bad "a body without braces (clang-tidy -fix -checks=readability-braces-around-statements)"
fi

# 3. the router's rules live in todo_route.c only
rules='"(tasks|health|openapi\.json|complete|v1|docs|changes|GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)"|"/v1|/tasks'
# (code only: comment lines may name routes)
if hits=$(grep -nE "$rules" mod_todo/*.c | grep -v '^mod_todo/todo_route\.c:' \
          | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)'); then
  printf '%s\n' "$hits" >&2
  bad "path or method rules outside mod_todo/todo_route.c"
fi

# 4. glue files reach each other only through mod_todo_req.h
shared=$(grep -oE '\btodo_[a-z0-9_]+\(' mod_todo/mod_todo_req.h | tr -d '(' | sort -u)
for def in mod_todo/mod_todo_*.c; do
  funcs=$(grep -oE '^[a-z][^(;=]*\b(todo_[a-z0-9_]+)\(' "$def" \
          | grep -v '^static' | grep -oE 'todo_[a-z0-9_]+\($' | tr -d '(' | sort -u)
  for fn in $funcs; do
    grep -qx "$fn" <<<"$shared" && continue
    for use in mod_todo/mod_todo_*.c; do
      [ "$use" = "$def" ] && continue
      if grep -qE "\b$fn\(" "$use"; then
        bad "$use calls $fn (defined in $def) outside mod_todo_req.h"
      fi
    done
  done
done

# 5. static helpers are unprefixed: todo_<area>_<verb> is what a header
#    exports
if hits=$(grep -nE '^static [^=(]*\btodo_[a-z0-9_]+\(' mod_todo/*.c); then
  printf '%s\n' "$hits" >&2
  bad "static functions named todo_*: keep that prefix for what a header exports"
fi

[ $fail -eq 0 ] || exit 1
echo "style: ${#cfiles[@]} C files match the house rules"
