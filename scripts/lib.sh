# shellcheck shell=bash
# Shared helpers for scripts/serve.sh, scripts/test.sh and bench/run.sh.
#
# Layout of the working area (TODO_HOME, default /var/tmp/mod_todo):
#   src/      a copy of this checkout (what git tracks plus untracked files)
#   build/    the autotools build (out of tree)
#   pg/       the private PostgreSQL cluster (data/, socket, log)
#   httpd/    the Apache instance (conf, logs, pid)
# Servers run as an unprivileged user (TODO_USER, default "modtodo"),
# because initdb, postgres and Apache::Test refuse to run as root.

set -o errexit -o nounset -o pipefail

TODO_USER=${TODO_USER:-modtodo}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages needed to build, serve and test.  bench/run.sh adds its own.
TODO_PACKAGES=(
  build-essential autoconf automake libtool pkg-config git ca-certificates
  apache2 apache2-dev libaprutil1-dbd-pgsql libpq-dev
  libjansson-dev libjwt-dev libssl-dev libcurl4-openssl-dev libcmocka-dev
  postgresql postgresql-contrib sqitch libdbd-pg-perl
  libapache2-mod-perl2 libwww-perl libjson-perl libjson-xs-perl
  libjson-validator-perl libyaml-libyaml-perl
  curl procps locales
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root (directly, or through sudo for a developer).
as_root() {
  if is_root; then "$@"; else sudo "$@"; fi
}

# Install what is missing from the given package list; apt-get update first.
#
# The machine's own Apache and PostgreSQL are left as they were found:
# - Installing a package may enable an Apache module, site or configuration
#   in the system's /etc/apache2 (libapache2-mod-perl2, which Apache::Test
#   needs, enables mod_perl): what the installation newly enabled is
#   disabled again (a2dismod/a2dissite/a2disconf, which also keeps later
#   upgrades from enabling it again) and what it disabled is enabled again.
#   On a machine without Apache, apache2 itself is installed first, on its
#   own: Debian's default modules, site and configurations that it enables
#   are the Apache "as found" from then on.
# - A server that the installation started (Debian starts packaged servers
#   where no policy-rc.d forbids it) is stopped again; on systemd, a server
#   installed here is also disabled at boot.  Servers that ran before keep
#   running.
ensure_packages() {
  local missing=() p fresh_apache=0 apache_before running_before
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  running_before=$(system_servers_running)
  # Another apt (a second checkout's test run, unattended-upgrades) may
  # hold the locks: wait for it instead of failing.
  apt_get update -q
  if ! dpkg-query -W -f='${Status}' apache2 2>/dev/null | grep -q 'install ok installed' \
      && printf '%s\n' "${missing[@]}" | grep -qx apache2; then
    apt_get install -y -q --no-install-recommends apache2
    fresh_apache=1
  fi
  apache_before=$(apache_enabled_state)
  apt_get install -y -q --no-install-recommends "${missing[@]}"
  apache_enabled_reset "$apache_before"
  system_servers_restore "$running_before" "$fresh_apache" "${missing[*]}"
  # prometheus (for promtool) comes with a Prometheus server, which
  # systemd starts: not one of ours.
  if printf '%s\n' "${missing[@]}" | grep -qx prometheus \
      && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
}

apt_get() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 "$@"
}

# What the machine's own Apache enables, one line per entry of
# /etc/apache2/{mods,sites,conf}-enabled: "mods NAME TARGET".
apache_enabled_state() {
  local d
  for d in mods sites conf; do
    [ -d "/etc/apache2/$d-enabled" ] || continue
    find "/etc/apache2/$d-enabled" -mindepth 1 -maxdepth 1 -printf "$d %f %l\n"
  done | LC_ALL=C sort
}

# apache_enabled_reset STATE: disable what is enabled now but not in STATE
# (a line of apache_enabled_state), enable again what STATE had; reload
# the machine's Apache if it runs and something changed.
apache_enabled_reset() {
  local before=$1 now kind name changed=0
  now=$(apache_enabled_state)
  [ "$now" = "$before" ] && return 0
  # Newly enabled first (a new MPM must go before the old one comes back);
  # a module's .load and .conf are one entry.
  while read -r kind name; do
    [ -n "$kind" ] || continue
    say "undoing what the installation enabled in the system Apache: $kind $name"
    case $kind in
      mods) as_root a2dismod -q -f "$name" ;;
      sites) as_root a2dissite -q "$name" ;;
      conf) as_root a2disconf -q "$name" ;;
    esac
    changed=1
  done < <(LC_ALL=C comm -13 <(echo "$before") <(echo "$now") | awk '{ sub(/\.(load|conf)$/, "", $2); print $1, $2 }' | uniq)
  while read -r kind name; do
    [ -n "$kind" ] || continue
    say "enabling again in the system Apache what the installation disabled: $kind $name"
    case $kind in
      mods) as_root a2enmod -q "$name" ;;
      sites) as_root a2ensite -q "$name" ;;
      conf) as_root a2enconf -q "$name" ;;
    esac
    changed=1
  done < <(LC_ALL=C comm -23 <(echo "$before") <(echo "$now") | awk '{ sub(/\.(load|conf)$/, "", $2); print $1, $2 }' | uniq)
  now=$(apache_enabled_state)
  if [ "$now" != "$before" ]; then
    diff <(echo "$before") <(echo "$now") >&2 || true
    die "could not restore what the system Apache enables (/etc/apache2/*-enabled)"
  fi
  if [ $changed = 1 ] && system_apache_running; then
    as_root apache2ctl graceful || true
  fi
}

# Whether the machine's own Apache runs (its pid file names a live process).
system_apache_running() {
  local pid
  pid=$(cat /var/run/apache2/apache2.pid 2>/dev/null) || return 1
  [ -n "$pid" ] && as_root kill -0 "$pid" 2>/dev/null
}

# The machine's own servers that run: "apache2", and "pg VERSION NAME" for
# each online cluster of Debian's (pg_lsclusters).
system_servers_running() {
  if system_apache_running; then echo apache2; fi
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print "pg", $1, $2 }'
  fi
  return 0
}

# system_servers_restore BEFORE FRESH_APACHE PACKAGES: stop what runs now
# but not BEFORE (system_servers_running); on systemd, disable at boot the
# apache2 and postgresql services of packages installed just now.
system_servers_restore() {
  local before=$1 fresh_apache=$2 packages=" $3 " line v n
  while read -r line; do
    [ -n "$line" ] || continue
    grep -qxF "$line" <<<"$before" && continue
    say "stopping the system's $line, which the installation started"
    case $line in
      apache2) as_root apache2ctl stop || true ;;
      pg\ *) read -r _ v n <<<"$line"; as_root pg_ctlcluster "$v" "$n" stop || true ;;
    esac
  done <<<"$(system_servers_running)"
  if [ -d /run/systemd/system ]; then
    if [ "$fresh_apache" = 1 ]; then
      as_root systemctl disable --now apache2 >/dev/null 2>&1 || true
    fi
    case $packages in
      *" postgresql "*) as_root systemctl disable --now postgresql >/dev/null 2>&1 || true ;;
    esac
  fi
}

# Node.js for the Better Auth interop test: keep an existing node (e.g.
# NodeSource's, which bundles npm), otherwise take Debian's.
ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  ensure_packages nodejs npm
}

# The unprivileged account the servers run as; as a normal user, yourself.
ensure_user() {
  if ! is_root; then
    TODO_USER=$(id -un)
    return 0
  fi
  id "$TODO_USER" >/dev/null 2>&1 && return 0
  say "creating system user $TODO_USER"
  useradd --system --user-group --home-dir /var/lib/"$TODO_USER" \
    --create-home --shell /usr/sbin/nologin "$TODO_USER"
}

# Run a command as TODO_USER with a clean, predictable environment.
as_user() {
  local home
  home=$(getent passwd "$TODO_USER" | cut -d: -f6)
  if is_root; then
    runuser -u "$TODO_USER" -- env HOME="$home" PATH="$PATH" LANG=C.UTF-8 \
      TODO_HOME="$TODO_HOME" "$@"
  else
    env LANG=C.UTF-8 TODO_HOME="$TODO_HOME" "$@"
  fi
}

# Make TODO_HOME and hand it to TODO_USER.
prepare_home() {
  mkdir -p "$TODO_HOME"
  if is_root; then chown "$TODO_USER": "$TODO_HOME"; fi
  chmod 0755 "$TODO_HOME"
}

# Copy the checkout into DEST (default $TODO_HOME/src): what git tracks or
# would track (untracked, not ignored files included), so local edits are
# tested too.
stage_tree() {
  local dest=${1:-$TODO_HOME/src}
  as_user rm -rf "$dest"
  as_user mkdir -p "$dest"
  if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$TOP" && git -c safe.directory='*' ls-files -z -co --exclude-standard \
      | xargs -0 -r -I{} sh -c 'test -e "$1" && printf "%s\0" "$1"' _ {} \
      | tar --null -T - -cf -) | as_user tar -xf - -C "$dest"
  else
    (cd "$TOP" && tar --exclude=./.git --exclude=node_modules -cf - .) \
      | as_user tar -xf - -C "$dest"
  fi
}

# autotools build in $TODO_HOME/build; incremental when run again.
build_tree() {
  local src=$TODO_HOME/src build=$TODO_HOME/build
  say "building (autoreconf, configure, make) in $build"
  as_user sh -c "cd '$src' && autoreconf -fi >/dev/null 2>&1 || autoreconf -fi"
  as_user mkdir -p "$build"
  if [ ! -f "$build/Makefile" ]; then
    as_user sh -c "cd '$build' && '$src/configure' --quiet"
  fi
  as_user make -C "$build" -j"$(nproc)" >/dev/null \
    || as_user make -C "$build" # again, verbosely, to show the error
}

# The tool that prints the module's statements with pgbench variables
# (bench/sqltext.c, t/tools/sql-text), built in the tree build_tree made;
# prints its path.  bench/run.sh and bench/clients.sh run the module's
# exact SQL through pgbench with it.
sqltext_tool() {
  as_user make -C "$TODO_HOME/build" -s t/tools/sql-text >/dev/null
  echo "$TODO_HOME/build/t/tools/sql-text"
}

# A free TCP port on 127.0.0.1 (the kernel picks; we just ask).
free_port() {
  perl -MIO::Socket::INET -e \
    'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
       Listen => 1, ReuseAddr => 1) or die "$!\n"; print $s->sockport, "\n"'
}

# A free TCP port on 127.0.0.1 below 32768, for a server that a test stops
# and starts again: Linux hands out 32768-60999 to clients, and a client
# retrying a stopped server on such a port can connect to itself and hold
# the port (PostgreSQL then cannot bind it again).
low_port() {
  local i p
  for i in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    port_is_free "$p" && { echo "$p"; return 0; }
  done
  die "no free port found below 32768"
}

port_is_free() {
  perl -MIO::Socket::INET -e \
    'exit(IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
       Listen => 1, ReuseAddr => 1) ? 0 : 1)' "$1"
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$d/initdb" ] || die "PostgreSQL server binaries not found"
  echo "$d"
}

# pg_init DIR PORT: a private cluster in DIR (created once) on 127.0.0.1.
# The role "todo_app" is what mod_todo connects as (password in
# DIR/app.password); the cluster's owner deploys the schema.
pg_init() {
  local dir=$1 port=$2 bin
  bin=$(pg_bindir)
  as_user mkdir -p "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    say "creating PostgreSQL cluster in $dir/data"
    # The owner connects over the private socket as itself (peer); the
    # app role with a password (over the socket, or TCP).
    as_user "$bin/initdb" -D "$dir/data" --encoding=UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 -U "$TODO_USER" >/dev/null
    as_user sh -c "umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' > '$dir/app.password'"
    as_user sh -c "cat >> '$dir/data/postgresql.conf'" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
fsync = on
log_min_messages = warning
lc_messages = 'C'
CONF
  fi
  # mod_todo reaches a local cluster through its socket, like any local
  # client: cheaper than TCP on loopback.  (Added to clusters made before.)
  if ! grep -q '^local *all *todo_app' "$dir/data/pg_hba.conf"; then
    as_user sed -i '0,/^local/s//local   all             todo_app                                scram-sha-256\nlocal/' \
      "$dir/data/pg_hba.conf"
  fi
  echo "$port" | as_user tee "$dir/port" >/dev/null
}

# pg_locale DIR NAME: compile the locale NAME (e.g. de_DE.UTF-8) into
# DIR/locale, for that cluster alone (pg_start points LOCPATH there): the
# machine's own locales are left as they are.
pg_locale() {
  local dir=$1 name=$2
  as_user mkdir -p "$dir/locale"
  as_user localedef -i "${name%%.*}" -f "${name#*.}" "$dir/locale/$name"
}

pg_start() {
  local dir=$1 bin port loc=()
  bin=$(pg_bindir)
  port=$(cat "$dir/port")
  if as_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    return 0
  fi
  [ -d "$dir/locale" ] && loc=(LOCPATH="$dir/locale")
  say "starting PostgreSQL on 127.0.0.1:$port"
  as_user env "${loc[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
    -w -t 60 -o "-p $port" start >/dev/null
}

pg_stop() {
  local dir=$1 bin
  bin=$(pg_bindir)
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# psql as the cluster owner over the private socket.
pg_psql() {
  local dir=$1; shift
  as_user psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$(cat "$dir/port")" "$@"
}

# pg_database DIR DBNAME: create the database and the app role if needed.
pg_database() {
  local dir=$1 db=$2 pw
  pw=$(cat "$dir/app.password")
  pg_psql "$dir" -d postgres <<SQL
SELECT 'CREATE DATABASE $db' WHERE NOT EXISTS
  (SELECT FROM pg_database WHERE datname = '$db') \gexec
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todo_app') THEN
    CREATE ROLE todo_app LOGIN;
  END IF;
END \$\$;
ALTER ROLE todo_app PASSWORD '$pw';
SQL
}

# Deploy the sqitch project to DB and give the app role what it needs.
schema_deploy() {
  local dir=$1 db=$2
  as_user sh -c "cd '$TODO_HOME/src/sql' && sqitch --quiet deploy \
    'db:pg://$TODO_USER@/$db?host=$dir&port=$(cat "$dir/port")'"
  pg_grant "$dir" "$db"
}

# The grants of mod_todo's role (README, docs/operations.md "Upgrades and
# migrations"): task_counts' triggers run as the writing role; the
# tombstones' trigger is SECURITY DEFINER.
pg_grant() {
  pg_psql "$1" -d "$2" \
    -c 'GRANT SELECT, INSERT, UPDATE, DELETE ON tasks, idempotency_keys TO todo_app' \
    -c 'GRANT SELECT, INSERT, UPDATE ON task_counts, tombstone_horizons TO todo_app' \
    -c 'GRANT SELECT, UPDATE, DELETE ON task_tombstones TO todo_app' \
    -c 'GRANT SELECT ON token_key TO todo_app'
}

# DBDParams for mod_dbd (libpq keywords).
dbd_params() {
  local dir=$1 db=$2
  printf 'host=%s port=%s dbname=%s user=todo_app password=%s connect_timeout=3' \
    "$dir" "$(cat "$dir/port")" "$db" "$(cat "$dir/app.password")"
}

# better_auth_start DIR PORT: the Better Auth issuer of the interop test
# (t/interop).  Installs its npm packages (exact versions of
# t/interop/package-lock.json; the cache lives in TODO_HOME), then runs
# `better-auth.mjs prepare` (migrations, a user, EdDSA/ES256/RS256 keys,
# DIR/jwks.json) and `better-auth.mjs serve` in the background on
# 127.0.0.1:PORT (its pid in DIR/serve.pid, its log in DIR/serve.log).
# Needs BETTER_AUTH_SECRET, TODO_PG_DIR, TODO_PG_PORT, TODO_USER_NAME in
# the environment.  The PostgreSQL database "betterauth" must exist.
better_auth_start() {
  local dir=$1 port=$2 src=$TODO_HOME/src/t/interop i
  local envs=(BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET" TODO_PG_DIR="$TODO_PG_DIR"
              TODO_PG_PORT="$TODO_PG_PORT" TODO_USER_NAME="$TODO_USER_NAME")
  node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
    || die "the interop test needs Node.js >= 20.19 (better-auth's dependencies); found $(node --version)"
  as_user rm -rf "$dir"
  as_user mkdir -p "$dir"
  as_user sh -c "cd '$src' && npm ci --no-audit --no-fund --ignore-scripts \
      --prefer-offline --cache '$TODO_HOME/npm-cache' >'$dir/npm.log' 2>&1" \
    || { cat "$dir/npm.log" >&2; die "npm ci failed in $src"; }
  as_user env "${envs[@]}" node "$src/better-auth.mjs" prepare \
    --dir "$dir" --port "$port" || die "better-auth.mjs prepare failed"
  as_user env "${envs[@]}" sh -c "node '$src/better-auth.mjs' serve \
    --dir '$dir' --port '$port' >'$dir/serve.log' 2>&1 & echo \$! >'$dir/serve.pid'"
  for i in $(seq 1 100); do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/control/session" \
      2>/dev/null && return 0
    kill -0 "$(cat "$dir/serve.pid")" 2>/dev/null || break
    sleep 0.2
  done
  cat "$dir/serve.log" >&2
  die "Better Auth did not start on 127.0.0.1:$port"
}

# browser_deps: the npm packages of the browser tests (t/browser:
# playwright-core to drive Debian's chromium, swagger-ui-dist for the docs
# page, better-auth and pg for the frontend app), exact versions of
# t/browser/package-lock.json, the cache in TODO_HOME.  No install scripts:
# nothing is downloaded besides the packages (no browser).
browser_deps() {
  local src=$TODO_HOME/src/t/browser
  as_user sh -c "cd '$src' && npm ci --no-audit --no-fund --ignore-scripts \
      --prefer-offline --cache '$TODO_HOME/npm-cache' >'$TODO_HOME/browser-npm.log' 2>&1" \
    || { cat "$TODO_HOME/browser-npm.log" >&2; die "npm ci failed in $src"; }
}

# mpm_check MPM: refuse anything but the MPMs Debian's apache2 ships.
mpm_check() {
  case $1 in
    event | worker | prefork) ;;
    *) die "TODO_MPM must be event, worker or prefork (not '$1')" ;;
  esac
}

# httpd_conf_head WEB PORT MPM: the part of a private Apache's configuration
# that serve.sh and bench/run.sh share -- where it lives, its logs (the
# error log's format as in conf/todo-vhost.conf.example: mod_todo's lines
# carry their request id, the access log has it as %L and the user as %u)
# and the modules, the freshly built one among them.  The callers add MPM
# sizing, mod_dbd and the <Location>.
httpd_conf_head() {
  local web=$1 port=$2 mpm=$3
  cat <<CONF
ServerRoot "$web"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$web/httpd.pid"
DefaultRuntimeDir "$web"
ErrorLog "$web/logs/error.log"
ErrorLogFormat "[%{cu}t] [%-m:%l] [pid %P:tid %T] [client\ %a] %M"
LogLevel warn todo:info
LogFormat "%h %L %u %t \"%r\" %>s %b %D" todo
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
# As a stock Debian Apache does: slow or stalled clients are cut off.
LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule todo_module "$TODO_HOME/build/.libs/mod_todo.so"
CONF
}
