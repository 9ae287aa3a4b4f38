#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (run as root or with
# sudo): installs what is missing, then runs two passes, each with its own
# build, work area and servers:
#   plain     the module as shipped (-O2):
#             1. the cmocka unit tests (make check), and a fixed-seed
#                libFuzzer run over the httpd-free core with
#                AddressSanitizer and UBSan (t/fuzz);
#             2. the Apache::Test integration suites against a real Apache
#                with the module and a private PostgreSQL cluster (schema
#                round trip with sqitch, API, authentication, database
#                restarts, Better Auth interop, the docs page, and the
#                browser tests in headless Chromium);
#             3. the system tests (t/system, run as root with prove), each
#                with servers of its own: TLS to a TLS-only PostgreSQL
#                with Apache started from a root shell; failover with a
#                pg_auto_failover formation under load;
#             4. the deployment tests (as root; each leaves the machine as
#                it found it): t/deploy/container.sh, the container image
#                built with podman from the Dockerfile on base images made
#                with debootstrap, run with buildah as its non-root user
#                (migrate, serve, health check, refusals) against a TLS
#                PostgreSQL; t/deploy/install_deb.sh, the Debian package
#                built, lintian-clean, installed into the machine's own
#                Apache as docs/install-debian.md says, serving, purged;
#   sanitize  the same unit, integration and system tests with the module
#             and the tests built with AddressSanitizer (LeakSanitizer too
#             in the unit tests) and UBSan, Apache started with libasan
#             preloaded: a report fails the test that caused it (see
#             t/logs/error_log).
# Everything it starts is stopped again, also on failure, and the machine's
# own Apache keeps the modules, sites and configurations it had enabled: a
# pass fails if /etc/apache2/*-enabled differ afterwards (see
# ensure_packages in scripts/lib.sh for what an installation may change).
#
# Environment: TODO_TEST_HOME (work area, default /var/tmp/mod_todo-test;
# the sanitize pass appends "-sanitize"), TODO_TEST_FILES (run only these
# t/*.t files, t/system/*.t and t/deploy/*.sh tests), TODO_TEST_PASS (plain or sanitize:
# run only that pass), TODO_TEST_VERBOSE=1 (every test's comments and
# diagnostics, t/TEST -verbose).
source "$(dirname "$0")/lib.sh"

if [ -z "${TODO_TEST_PASS:-}" ]; then
  TODO_TEST_PASS=plain bash "$0"
  TODO_TEST_PASS=sanitize bash "$0"
  say "both passes (plain, sanitize) passed"
  exit 0
fi
TODO_HOME=${TODO_TEST_HOME:-/var/tmp/mod_todo-test}
case $TODO_TEST_PASS in
  plain) ;;
  sanitize)
    TODO_HOME=$TODO_HOME-sanitize
    # configure reads these (the pass has a build directory of its own).
    export CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
    export LDFLAGS="-fsanitize=address,undefined" ;;
  *) die "TODO_TEST_PASS is plain or sanitize, not '$TODO_TEST_PASS'" ;;
esac
export TODO_HOME
say "test pass: $TODO_TEST_PASS, in $TODO_HOME"

# What the machine's own Apache enables before this pass (apache2 is
# installed first, alone, on a machine without it: its defaults are what
# the machine has from then on).
ensure_packages apache2
APACHE_ENABLED_BEFORE=$(apache_enabled_state)
check_system_apache() {
  local now
  now=$(apache_enabled_state)
  [ "$now" = "$APACHE_ENABLED_BEFORE" ] && return 0
  diff <(echo "$APACHE_ENABLED_BEFORE") <(echo "$now") >&2 || true
  printf 'error: %s\n' "the machine's own Apache does not enable the same modules, sites and configurations as before this run (/etc/apache2/*-enabled)" >&2
  return 1
}

# The selected tests: t/system/*.t (prove, as root, both passes) and
# t/deploy/*.sh (as root, plain pass only) run after the Apache::Test
# suites; the rest (and any t/TEST option) go to t/TEST.
AT_FILES=() SYSTEM_FILES=() DEPLOY_TESTS=()
for f in ${TODO_TEST_FILES:-}; do
  case $f in
    t/deploy/*.sh) DEPLOY_TESTS+=("$f") ;;
    t/system/*) SYSTEM_FILES+=("$f") ;;
    *) AT_FILES+=("$f") ;;
  esac
done
if [ -z "${TODO_TEST_FILES:-}" ]; then
  mapfile -t DEPLOY_TESTS < <(cd "$TOP" && ls t/deploy/*.sh)
  mapfile -t SYSTEM_FILES < <(cd "$TOP" && ls t/system/*.t)
fi

# clang with its runtime libraries (libFuzzer, the sanitizers) for t/fuzz;
# clang-format and clang-tidy for the style check; chromium (and a font for
# its screenshots) for t/browser; promtool (prometheus) parses the metrics
# in t/ops/metrics.t.
# openssl for t/system/tls.t's certificates; pg_auto_failover, for the
# PostgreSQL that is installed, for t/system/ha_failover.t.
ensure_packages "${TODO_PACKAGES[@]}" clang libclang-rt-14-dev clang-format \
  clang-tidy chromium fonts-liberation openssl prometheus
PG_MAJOR=$(basename "$(dirname "$(pg_bindir)")")
ensure_packages "postgresql-$PG_MAJOR-auto-failover" pg-auto-failover-cli
ensure_node
ensure_user
prepare_home
stage_tree
build_tree

if [ "$TODO_TEST_PASS" = plain ]; then
  say "style (.clang-format, braces, the router and glue rules)"
  as_user bash "$TODO_HOME/src/scripts/style.sh"
fi

say "unit tests (cmocka)"
as_user make -C "$TODO_HOME/build" check

if [ "$TODO_TEST_PASS" = plain ]; then
  say "fuzzing the core (libFuzzer, AddressSanitizer, UBSan; fixed seed)"
  as_user rm -rf "$TODO_HOME/fuzz"
  as_user "$TODO_HOME/src/t/fuzz/run.sh" "$TODO_HOME/fuzz" >"$TODO_HOME/fuzz.log" 2>&1 \
    || { tail -n 60 "$TODO_HOME/fuzz.log" >&2; die "fuzzing failed (log: $TODO_HOME/fuzz.log)"; }
  grep '^Done ' "$TODO_HOME/fuzz.log" >&2
fi

# The sanitized mod_todo.so needs AddressSanitizer's runtime first in the
# process: Apache::Test starts httpd through this script.  httpd does not
# free everything at exit, so no leak check there (the unit tests have
# one); reports go to stderr, which is httpd's error log.
HTTPD=/usr/sbin/apache2
if [ "$TODO_TEST_PASS" = sanitize ]; then
  HTTPD=$TODO_HOME/httpd-sanitize
  printf '%s\n' '#!/bin/sh' \
    "LD_PRELOAD='$(gcc -print-file-name=libasan.so)' \\" \
    "ASAN_OPTIONS=detect_leaks=0 \\" \
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \\" \
    'exec /usr/sbin/apache2 "$@"' | as_user tee "$HTTPD" >/dev/null
  as_user chmod 755 "$HTTPD"
fi

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
  # Better Auth (t/interop), and what a browser test left behind if it
  # was killed: its app, node drivers, Chromium (profile in t/logs/browser).
  pkill -u "$TODO_USER" -f "$SRC/t/(interop|browser|logs/browser)/" >/dev/null 2>&1
  system_cleanup
  pg_stop "$PG"
  check_system_apache || rc=1
  exit $rc
}
trap cleanup EXIT INT TERM

# The system tests stop their servers themselves, also when they fail; if
# one was killed outright, what it left running is found by the pid files
# in its work area (TODO_HOME/system), and the area removed.
system_cleanup() {
  local d=$TODO_HOME/system f pid
  [ -d "$d" ] || return 0
  while read -r f; do
    pid=$(head -n 1 "$f" 2>/dev/null) && [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done < <(find "$d" \( -name httpd.pid -o -name pg_autoctl.pid \) 2>/dev/null)
  sleep 2
  while read -r f; do
    as_user "$(pg_bindir)/pg_ctl" -D "$(dirname "$f")" -m immediate stop >/dev/null 2>&1
  done < <(find "$d" -name postmaster.pid 2>/dev/null)
  rm -rf "$d"
}

# A fresh cluster for every run, on a free port.
as_user rm -rf "$PG"
pg_init "$PG" "$(low_port)"
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

# The browser tests (t/browser): their npm packages, and the port and
# database of the frontend app e2e.t starts (a Better Auth of its own).
say "browser tests' npm packages"
browser_deps
BROWSER_PORT=$(low_port)
pg_psql "$PG" -d postgres -c 'CREATE DATABASE betterauth_browser'

TEST_ENV=(
  TODO_SRC="$SRC"
  TODO_HTTPD="$HTTPD"
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
  TODO_JWKS_PORT="$(low_port)"
  TODO_BA_PORT="$BA_PORT"
  BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET"
  TODO_BROWSER_PORT="$BROWSER_PORT"
)

if [ -z "${TODO_TEST_FILES:-}" ] || [ ${#AT_FILES[@]} -gt 0 ]; then
  say "integration tests (Apache::Test, httpd $(apache2 -v | sed -n 's/^Server version: //p'))"
  # Its own port (several checkouts may test at once; some suites restart
  # the server), on 127.0.0.1 only (t/conf/httpd.conf.in).
  as_user env "${TEST_ENV[@]}" sh -c "cd '$SRC' && ./t/TEST \
    -httpd '$HTTPD' -apxs /usr/bin/apxs \
    -httpd_conf '$SRC/t/conf/base.conf' -port $(low_port) \
    -servername 127.0.0.1 ${TODO_TEST_VERBOSE:+-verbose} ${AT_FILES[*]}"
fi

# Root: t/system/tls.t starts Apache from a root shell, as a sysadmin does
# (the suites drop to TODO_USER for every server).  Their figures (the
# failover's) land in TODO_HOME/system-ha-figures.txt.
if [ ${#SYSTEM_FILES[@]} -gt 0 ]; then
  is_root || die "the system tests (${SYSTEM_FILES[*]}) need root"
  say "system tests (as root, servers of their own): ${SYSTEM_FILES[*]}"
  (cd "$SRC" && env "${TEST_ENV[@]}" TODO_HOME="$TODO_HOME" \
     prove -v "${SYSTEM_FILES[@]}")
fi

# Deployment tests: as root, on the machine's own Apache and PostgreSQL
# tools; each leaves the machine as it found it.
if [ "$TODO_TEST_PASS" = plain ]; then
  for t in "${DEPLOY_TESTS[@]}"; do
    say "deployment test $t"
    as_root bash "$TOP/$t" "$TODO_HOME/deploy/$(basename "$t" .sh)"
  done
fi
check_system_apache
say "all tests passed"
