#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (run as root or with
# sudo): installs what is missing, builds, then runs
#   1. the cmocka unit tests (make check), and a fixed-seed libFuzzer run
#      over the httpd-free core with AddressSanitizer and UBSan (t/fuzz),
#   2. the Apache::Test integration suites against a real Apache with the
#      module and a private PostgreSQL cluster (schema round trip with
#      sqitch, API, authentication, database restarts, Better Auth interop).
# Everything it starts is stopped again, also on failure.
#
# Environment: TODO_TEST_HOME (work area, default /var/tmp/mod_todo-test),
# TODO_TEST_FILES (run only these t/*.t files).
source "$(dirname "$0")/lib.sh"

TODO_HOME=${TODO_TEST_HOME:-/var/tmp/mod_todo-test}
export TODO_HOME

# clang with its runtime libraries (libFuzzer, the sanitizers) for t/fuzz.
ensure_packages "${TODO_PACKAGES[@]}" clang libclang-rt-14-dev
ensure_node
ensure_user
prepare_home
stage_tree
build_tree

say "unit tests (cmocka)"
as_user make -C "$TODO_HOME/build" check

say "fuzzing the core (libFuzzer, AddressSanitizer, UBSan; fixed seed)"
as_user rm -rf "$TODO_HOME/fuzz"
as_user "$TODO_HOME/src/t/fuzz/run.sh" "$TODO_HOME/fuzz" >"$TODO_HOME/fuzz.log" 2>&1 \
  || { tail -n 60 "$TODO_HOME/fuzz.log" >&2; die "fuzzing failed (log: $TODO_HOME/fuzz.log)"; }
grep '^Done ' "$TODO_HOME/fuzz.log" >&2

# ------------------------------------------------------------ servers
PG=$TODO_HOME/pg
SRC=$TODO_HOME/src
BUILD=$TODO_HOME/build
cleanup() {
  local rc=$?
  set +e
  if [ -f "$SRC/t/logs/httpd.pid" ]; then
    as_user sh -c "cd '$SRC' && ./t/TEST -stop" >/dev/null 2>&1
  fi
  pkill -u "$TODO_USER" -f "$SRC/t/interop" >/dev/null 2>&1
  pg_stop "$PG"
  exit $rc
}
trap cleanup EXIT INT TERM

# A fresh cluster for every run, on a free port.
as_user rm -rf "$PG"
pg_init "$PG" "$(free_port)"
# t/api/db_migration.t has the server speak German (lc_messages).
pg_locale "$PG" de_DE.UTF-8
pg_start "$PG"
pg_database "$PG" todo_test
schema_deploy "$PG" todo_test
# PostgreSQL logs every statement of the module's role: t/api/db_session.t
# reads there what the module sent on each session.
pg_psql "$PG" -d postgres -c "ALTER ROLE todo_app SET log_statement = 'all'"

as_user sh -c "umask 077; head -c 48 /dev/urandom | base64 -w0 > '$TODO_HOME/jwt.secret'"

# The real issuer for t/interop: Better Auth (npm, exact versions in
# t/interop/package-lock.json) with its own database in this cluster,
# prepared (user, keys, BA_DIR/jwks.json) before Apache reads
# t/conf/locations/interop.conf, then serving on 127.0.0.1:BA_PORT until
# cleanup (which pkills "$SRC/t/interop").
say "Better Auth issuer for the interop test"
BA_DIR=$TODO_HOME/better-auth
BA_PORT=$(free_port)
BETTER_AUTH_SECRET=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
pg_psql "$PG" -d postgres -c 'CREATE DATABASE betterauth'   # fresh cluster
TODO_PG_DIR=$PG TODO_PG_PORT=$(cat "$PG/port") TODO_USER_NAME=$TODO_USER \
  BETTER_AUTH_SECRET=$BETTER_AUTH_SECRET better_auth_start "$BA_DIR" "$BA_PORT"

TEST_ENV=(
  TODO_SRC="$SRC"
  TODO_BUILD="$BUILD"
  TODO_MODULE_SO="$BUILD/.libs/mod_todo.so"
  TODO_JWT_SIGN="$BUILD/t/tools/jwt-sign"
  TODO_TOKEN="$BUILD/todo-token"
  TODO_SECRET_FILE="$TODO_HOME/jwt.secret"
  TODO_KEYS="$SRC/t/data/keys"
  TODO_PG_DIR="$PG"
  TODO_PG_BIN="$(pg_bindir)"
  TODO_PG_PORT="$(cat "$PG/port")"
  TODO_DB=todo_test
  TODO_DBD_PARAMS="$(dbd_params "$PG" todo_test)"
  TODO_USER_NAME="$TODO_USER"
  TODO_BA_DIR="$BA_DIR"
  TODO_BA_PORT="$BA_PORT"
  BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET"
)

say "integration tests (Apache::Test, httpd $(apache2 -v | sed -n 's/^Server version: //p'))"
# shellcheck disable=SC2086
as_user env "${TEST_ENV[@]}" sh -c "cd '$SRC' && ./t/TEST \
  -httpd /usr/sbin/apache2 -apxs /usr/bin/apxs \
  -httpd_conf '$SRC/t/conf/base.conf' -port select \
  ${TODO_TEST_FILES:-}"
say "all tests passed"
