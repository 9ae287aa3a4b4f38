#!/bin/bash
# todo-entrypoint: the container's entry point (docs/container.md).
#
#   serve       (the default) check the environment, check Apache's
#               configuration with it (apache2 -t), then run Apache in the
#               foreground as this (non-root) user
#   configtest  only the checks
#   migrate     deploy the packaged sqitch project to the database
#   anything else is run as a command (todo-token, bash, ...)
#
# A missing variable or a value that cannot be safe stops the container
# with one line on stderr, naming the variable, and exit status 1.
set -o errexit -o nounset -o pipefail

CONF=/etc/mod_todo/httpd.conf
SQL=/usr/share/libapache2-mod-todo/sql

refuse() {
  printf 'todo-entrypoint: %s\n' "$*" >&2
  exit 1
}

# plain NAME: the variable's value must survive a quoted httpd argument:
# no double quote, backslash or control character.
plain() {
  local v=${!1}
  case $v in
    *[\"\\]* | *[[:cntrl:]]*)
      refuse "$1 contains a double quote, a backslash or a control character, which Apache's configuration cannot carry" ;;
  esac
  return 0
}

# number NAME DEFAULT MIN MAX: set the default, then check the range.
number() {
  local name=$1 v
  v=${!name:-$2}
  [[ $v =~ ^[0-9]{1,6}$ ]] || refuse "$name must be a whole number from $3 to $4, not '$v'"
  v=$((10#$v))
  ((v >= $3 && v <= $4)) || refuse "$name must be a whole number from $3 to $4, not '$v'"
  printf -v "$name" '%s' "$v"
  export "${name?}"
}

DEFINES=()

check_database_url() {
  [ -n "${DATABASE_URL:-}" ] \
    || refuse "DATABASE_URL is not set: the PostgreSQL connection, e.g. postgresql://todo_app:PASSWORD@db.example.com:5432/todo?sslmode=require"
  plain DATABASE_URL
}

check_environment() {
  check_database_url

  # The key material: Better Auth's shared secret, or a JWKS URL.
  local secret=${BETTER_AUTH_SECRET:-} jwks=${TODO_JWKS_URL:-}
  if [ -n "$secret" ] && [ -n "$jwks" ]; then
    refuse "both BETTER_AUTH_SECRET and TODO_JWKS_URL are set: set one (a shared HS256 secret, or the issuer's JWKS URL)"
  elif [ -n "$secret" ]; then
    plain BETTER_AUTH_SECRET
    DEFINES+=(-DTODO_AUTH_SECRET)
    : "${TODO_JWT_ALGORITHMS:=HS256}"
  elif [ -n "$jwks" ]; then
    plain TODO_JWKS_URL
    case $jwks in
      http://* | https://*) ;;
      *) refuse "TODO_JWKS_URL must be an http:// or https:// URL" ;;
    esac
    DEFINES+=(-DTODO_AUTH_JWKS)
    : "${TODO_JWT_ALGORITHMS:=EdDSA ES256 RS256}"
  else
    refuse "neither BETTER_AUTH_SECRET nor TODO_JWKS_URL is set: the API needs the key that verifies its tokens"
  fi
  # Commas or spaces between the names; httpd and the module check them.
  TODO_JWT_ALGORITHMS=${TODO_JWT_ALGORITHMS//,/ }
  [[ $TODO_JWT_ALGORITHMS =~ ^[A-Za-z0-9\ ]*[A-Za-z0-9][A-Za-z0-9\ ]*$ ]] \
    || refuse "TODO_JWT_ALGORITHMS must list algorithm names (e.g. 'EdDSA ES256'), not '$TODO_JWT_ALGORITHMS'"
  export TODO_JWT_ALGORITHMS
  if [ -n "${TODO_JWT_ISSUER:-}" ]; then
    plain TODO_JWT_ISSUER
    DEFINES+=(-DTODO_ISSUER)
  fi
  if [ -n "${TODO_JWT_AUDIENCE:-}" ]; then
    plain TODO_JWT_AUDIENCE
    DEFINES+=(-DTODO_AUDIENCE)
  fi

  # CORS: origins separated by commas or spaces; the module checks each.
  if [ -n "${CORS_ORIGINS:-}" ]; then
    case $CORS_ORIGINS in
      *[\"\'\\\<\>]* | *[[:cntrl:]]*)
        refuse "CORS_ORIGINS must list origins such as https://app.example.com, separated by commas" ;;
    esac
    TODO_CORS_LIST=$(printf '%s' "${CORS_ORIGINS//,/ }" | tr -s ' ')
    TODO_CORS_LIST=${TODO_CORS_LIST# }
    TODO_CORS_LIST=${TODO_CORS_LIST% }
    if [ -n "$TODO_CORS_LIST" ]; then
      export TODO_CORS_LIST
      DEFINES+=(-DTODO_CORS)
    fi
  fi

  # LOG_LEVEL is mod_todo's level; Apache's own messages are logged from
  # warn, or from LOG_LEVEL when that is quieter.
  LOG_LEVEL=${LOG_LEVEL:-info}
  LOG_LEVEL=${LOG_LEVEL,,}
  [ "$LOG_LEVEL" = warning ] && LOG_LEVEL=warn
  case $LOG_LEVEL in
    debug | info | notice | warn) TODO_HTTPD_LOG_LEVEL=warn ;;
    error | crit | alert | emerg) TODO_HTTPD_LOG_LEVEL=$LOG_LEVEL ;;
    *) refuse "LOG_LEVEL must be one of debug, info, notice, warn, error, crit, alert, emerg; not '$LOG_LEVEL'" ;;
  esac
  export LOG_LEVEL TODO_HTTPD_LOG_LEVEL

  number PORT 8080 1 65535
  number TODO_PROCESSES 2 1 64
  number TODO_THREADS 25 1 1000
  number TODO_DB_POOL_MIN 2 0 1000
  number TODO_DB_POOL_KEEP 8 0 1000
  number TODO_DB_POOL_MAX 16 1 1000
  number TODO_KEEPALIVE_TIMEOUT 5 1 3600
  ((TODO_DB_POOL_MIN <= TODO_DB_POOL_KEEP && TODO_DB_POOL_KEEP <= TODO_DB_POOL_MAX)) \
    || refuse "the pool sizes must satisfy TODO_DB_POOL_MIN <= TODO_DB_POOL_KEEP <= TODO_DB_POOL_MAX (now $TODO_DB_POOL_MIN, $TODO_DB_POOL_KEEP, $TODO_DB_POOL_MAX)"
  export TODO_MAX_WORKERS=$((TODO_PROCESSES * TODO_THREADS))
}

# Apache's own check of the configuration with this environment: the
# module refuses what cannot be safe (a short secret, an algorithm without
# a key of its type, an origin with a path, ...).  Its message, on one line.
configtest() {
  local out
  if ! out=$(/usr/sbin/apache2 -f "$CONF" "${DEFINES[@]}" -t 2>&1); then
    out=$(printf '%s\n' "$out" | grep -v -e '^AH00526: Syntax error on line' -e '^\s*$' \
      | paste -sd ' ')
    refuse "configuration refused: ${out:-apache2 -t failed}"
  fi
}

# sqitch takes db:pg://...; libpq's postgresql:// or postgres:// URI is
# the same thing.
sqitch_target() {
  case $1 in
    postgresql://* | postgres://*) printf 'db:pg://%s' "${1#*://}" ;;
    *) return 1 ;;
  esac
}

migrate() {
  local owner_url target role
  check_database_url
  owner_url=${MIGRATE_DATABASE_URL:-$DATABASE_URL}
  target=$(sqitch_target "$owner_url") \
    || refuse "${MIGRATE_DATABASE_URL:+MIGRATE_}DATABASE_URL must be a postgresql:// URI for migrate"
  export SQITCH_FULLNAME=${SQITCH_FULLNAME:-mod_todo container}
  export SQITCH_EMAIL=${SQITCH_EMAIL:-mod_todo@container.invalid}
  sqitch --chdir "$SQL" deploy --verify "$target"
  # The role the API connects as may only read and write the tasks; when
  # it is not the role that owns the schema, it gets exactly that.
  role=$(psql -X -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c 'SELECT current_user') \
    || refuse "migrate: could not connect with DATABASE_URL to find the API's role"
  psql -X -q -v ON_ERROR_STOP=1 -v role="$role" -d "$owner_url" <<'SQL'
SELECT current_user <> :'role' AS other_role \gset
\if :other_role
GRANT SELECT, INSERT, UPDATE, DELETE ON tasks, idempotency_keys TO :"role";
GRANT SELECT, INSERT, UPDATE ON task_counts, tombstone_horizons TO :"role";
GRANT SELECT, UPDATE, DELETE ON task_tombstones TO :"role";
GRANT SELECT ON token_key TO :"role";
\endif
SQL
  printf 'todo-entrypoint: schema deployed; role %s may use it\n' "$role"
}

cmd=${1:-serve}
case $cmd in
  serve)
    [ "$(id -u)" != 0 ] || refuse "Apache is not run as root here: run the container as its own user (10001) or any other non-root user"
    check_environment
    configtest
    # The error log's writer takes stderr from file descriptor 3
    # (container/httpd.conf).
    exec 3>&2
    exec /usr/sbin/apache2 -f "$CONF" "${DEFINES[@]}" -DFOREGROUND
    ;;
  configtest)
    check_environment
    configtest
    printf 'todo-entrypoint: configuration OK\n'
    ;;
  migrate)
    migrate
    ;;
  *)
    exec "$@"
    ;;
esac
