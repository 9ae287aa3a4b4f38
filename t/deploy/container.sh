#!/usr/bin/env bash
# The container image (Dockerfile, docs/container.md), built and run here
# without a registry or an OCI runtime.  Run as root by scripts/test.sh
# (plain pass):
#
#   1. base images: no registry is reachable, so debootstrap makes a
#      minimal Debian 12 (--variant=minbase, from the machine's own apt
#      mirror; cached in WORK/cache for a week), imported with podman as
#      debian:bookworm, and a copy without documentation and locales, as
#      the official slim image is made, as debian:bookworm-slim;
#   2. podman build --isolation chroot of the checkout's Dockerfile; the
#      runtime image must declare a non-root user, a HEALTHCHECK, the
#      entrypoint and port, and hold no compiler, headers or test tools;
#   3. a private PostgreSQL cluster on 127.0.0.1 that accepts TCP only
#      over TLS (its own CA; the image verifies the server: sslmode=
#      verify-full); an owner role and the API's role;
#   4. the image's own entrypoint, command and environment, as the user it
#      declares, through "buildah run --isolation chroot --network host"
#      (podman run needs an OCI runtime, which cannot start containers on
#      these machines: crun fails to set rlimits):
#      - a missing DATABASE_URL, a short secret, both a secret and a JWKS
#        URL: non-zero, one clear line; a JWKS configuration passes;
#      - migrate into the empty database, then again with the owner's URL
#        in MIGRATE_DATABASE_URL (nothing to deploy; grants to the API's
#        role);
#      - serve: /api/health answers 200 and the image's HEALTHCHECK
#        command exits 0; a task created and listed with an HS256 token
#        signed with BETTER_AUTH_SECRET; CORS_ORIGINS applied; every
#        process of the container (Apache's and its log writers) runs as
#        the image's user; the database sessions are TLS; the access log
#        on stdout; stopped with the image's STOPSIGNAL (graceful).
#
# Everything lives in WORK: the images and containers in a storage of
# their own (WORK/storage, removed at the end, also on failure), the
# cluster in WORK/pg.  Only WORK/cache is kept between runs.
#
# Usage: t/deploy/container.sh WORK   (as root)
source "$(dirname "$0")/../../scripts/lib.sh"

WORK=${1:?usage: container.sh WORK}
is_root || die "the container test runs as root (podman and buildah with a storage of their own)"
export TODO_HOME=$WORK
T0=$(date +%s)

ensure_packages podman buildah debootstrap debian-archive-keyring \
  postgresql curl jq openssl iproute2 procps
ensure_user

CACHE=$WORK/cache
STORE=$WORK/storage
IMAGE=localhost/mod_todo-test:latest
# podman keeps a blob cache in /var/lib/containers/cache whatever its
# --root: what this test makes there is removed again (LEFT_ALONE: what
# was there before, noted below).
BLOB_CACHE=/var/lib/containers/cache/blob-info-cache-v1.boltdb
LEFT_ALONE=()
# podman and buildah on a storage of their own: nothing of the machine's
# (or another checkout's) images is seen or touched.
# (The runroot is made below, in /run: podman wants a path of at most 50
# characters.)
RUNROOT=
STORE_OPTS=()
podman_() { TMPDIR=$WORK/tmp podman "${STORE_OPTS[@]}" --tmpdir "$STORE/libpod" "$@"; }
buildah_() { TMPDIR=$WORK/tmp buildah "${STORE_OPTS[@]}" "$@"; }

SERVE_PID=
# The script's own stdout and stderr, for cleanup: interrupted during a
# step whose output goes to a log, the trap runs with that redirection.
exec 7>&1 8>&2
cleanup() {
  local rc=$? m
  set +e
  trap - EXIT INT TERM
  exec 1>&7 2>&8
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    for p in $(descendants "$SERVE_PID"); do kill -KILL "$p" 2>/dev/null; done
    kill -KILL "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
  fi
  if [ ${#STORE_OPTS[@]} -gt 0 ] && [ -d "$STORE" ]; then
    buildah_ rm --all >/dev/null 2>&1
    podman_ rmi --all --force >/dev/null 2>&1
    # Whatever is still mounted under the storage (an interrupted step).
    while read -r m; do umount -l "$m"; done < <(awk -v s="$STORE/" 'index($2 "/", s) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf "$STORE"
  fi
  if [ -n "$RUNROOT" ]; then
    while read -r m; do umount -l "$m"; done < <(awk -v s="$RUNROOT/" 'index($2 "/", s) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf "$RUNROOT"
  fi
  pg_stop "$WORK/pg"
  for p in "$BLOB_CACHE" /var/lib/containers/cache /var/lib/containers; do
    printf '%s\n' "${LEFT_ALONE[@]}" | grep -qxF "$p" && continue
    if [ -d "$p" ]; then rmdir "$p" 2>/dev/null; else rm -f "$p"; fi
  done
  rm -rf "$WORK/tmp" "$WORK/slim" "$WORK/rootfs" "$WORK/context"
  if [ $rc = 0 ]; then
    say "container test passed in $(($(date +%s) - T0)) s (logs: $WORK/logs)"
  else
    printf 'error: container test failed (logs: %s)\n' "$WORK/logs" >&2
  fi
  exit $rc
}

# descendants PID: the processes below PID, each before its own.
descendants() {
  local c
  for c in $(pgrep -P "$1"); do
    echo "$c"
    descendants "$c"
  done
}

# One run of this test at a time on the machine (it owns no fixed port or
# name, but debootstrap and the builds would share the two CPUs badly).
exec 9>/run/lock/mod_todo-container-test.lock
flock -w 3600 9 || die "another container test holds /run/lock/mod_todo-container-test.lock"
for p in /var/lib/containers /var/lib/containers/cache "$BLOB_CACHE"; do
  if [ -e "$p" ]; then LEFT_ALONE+=("$p"); fi
done

# WORK afresh, but its cache (and first whatever an interrupted run left
# mounted there).
mkdir -p "$WORK"
while read -r m; do umount -l "$m"; done < <(awk -v s="$WORK/" 'index($2 "/", s) == 1 { print $2 }' /proc/mounts | sort -r)
find "$WORK" -mindepth 1 -maxdepth 1 ! -name cache -exec rm -rf {} +
trap cleanup EXIT
trap 'exit 1' INT TERM
prepare_home
mkdir -p "$CACHE" "$WORK/logs" "$WORK/tmp"
RUNROOT=$(mktemp -d /run/mod_todo-ctr.XXXXXX)
STORE_OPTS=(--root "$STORE/root" --runroot "$RUNROOT" --storage-driver overlay)
chown "$TODO_USER": "$WORK/logs"

# ----------------------------------------------------------- base images
# The machine's Debian mirror (what apt uses here), for debootstrap and as
# the images' apt sources.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  SOURCES=/etc/apt/sources.list.d/debian.sources
  MIRROR=$(awk '/^URIs:/ { print $2; exit }' "$SOURCES")
else
  SOURCES=/etc/apt/sources.list
  MIRROR=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' "$SOURCES")
fi
[ -n "$MIRROR" ] || die "no Debian mirror for bookworm in $SOURCES"

BASE_TAR=$CACHE/bookworm-minbase.tar
if [ -f "$BASE_TAR" ] && [ -n "$(find "$BASE_TAR" -mtime -7)" ]; then
  say "base system: $BASE_TAR (cached $(stat -c %y "$BASE_TAR" | cut -d. -f1))"
else
  say "base system: debootstrap --variant=minbase bookworm from $MIRROR"
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/logs/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/logs/debootstrap.log" >&2; die "debootstrap failed"; }
  # apt's sources as the machine has them; no lists, caches or logs.
  rm -f "$WORK/rootfs/etc/apt/sources.list"
  if [ "$SOURCES" = /etc/apt/sources.list ]; then
    grep -v '^#' "$SOURCES" >"$WORK/rootfs/etc/apt/sources.list"
  else
    grep -v '^#' "$SOURCES" >"$WORK/rootfs/etc/apt/sources.list.d/debian.sources"
  fi
  rm -rf "$WORK/rootfs"/var/lib/apt/lists/* "$WORK/rootfs"/var/cache/apt/*.bin \
    "$WORK/rootfs"/var/cache/apt/archives/*.deb "$WORK/rootfs"/var/log/*.log \
    "$WORK/rootfs"/var/log/apt/* "$WORK/rootfs"/etc/hostname "$WORK/rootfs"/etc/resolv.conf
  tar --numeric-owner --xattrs -C "$WORK/rootfs" -cf "$BASE_TAR.tmp" .
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$WORK/rootfs"
fi

# The slim variant, as Debian's official one: no documentation (but the
# copyright files), manual pages or translations, and dpkg told to leave
# them out of every package installed later.
say "base images debian:bookworm and debian:bookworm-slim (podman import)"
SLIM=$WORK/slim
mkdir -p "$SLIM"
tar --numeric-owner -C "$SLIM" -xf "$BASE_TAR"
find "$SLIM/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$SLIM/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$SLIM"/usr/share/man/* "$SLIM"/usr/share/info/* "$SLIM"/usr/share/groff/* \
  "$SLIM"/usr/share/lintian/* "$SLIM"/usr/share/linda/*
find "$SLIM/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
cat >"$SLIM/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
tar --numeric-owner -C "$SLIM" -cf "$WORK/tmp/slim.tar" .
rm -rf "$SLIM"
BASE_CHANGES=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
              --change 'CMD ["bash"]')
podman_ import "${BASE_CHANGES[@]}" "$BASE_TAR" debian:bookworm >/dev/null
podman_ import "${BASE_CHANGES[@]}" "$WORK/tmp/slim.tar" debian:bookworm-slim >/dev/null
rm -f "$WORK/tmp/slim.tar"
podman_ images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | sed 's/^/    /' >&2

# ------------------------------------------------------------------ build
say "podman build --isolation chroot (the checkout's Dockerfile)"
stage_tree "$WORK/context"
TB=$(date +%s)
podman_ build --isolation chroot --pull=never --format docker \
  -t "$IMAGE" -f "$WORK/context/Dockerfile" "$WORK/context" >"$WORK/logs/build.log" 2>&1 \
  || { tail -n 40 "$WORK/logs/build.log" >&2; die "podman build failed (log: $WORK/logs/build.log)"; }
BUILD_SECONDS=$(($(date +%s) - TB))
rm -rf "$WORK/context"

inspect() { podman_ image inspect --format "$1" "$IMAGE"; }
SIZE=$(inspect '{{.Size}}')
say "image built in $BUILD_SECONDS s: $(((SIZE + 500000) / 1000000)) MB ($SIZE bytes; layers below)"
podman_ history --format '{{.Size}}  {{.CreatedBy}}' "$IMAGE" | cut -c1-110 | sed 's/^/    /' >&2

USER_=$(inspect '{{.Config.User}}')
ENTRYPOINT=$(inspect '{{json .Config.Entrypoint}}')
CMD=$(inspect '{{json .Config.Cmd}}')
HEALTH=$(podman_ image inspect "$IMAGE" | jq -c '.[0].Healthcheck.Test // .[0].Config.Healthcheck.Test // empty')
STOPSIG=$(inspect '{{.Config.StopSignal}}')
PORTS=$(podman_ image inspect "$IMAGE" | jq -r '.[0].Config.ExposedPorts | keys | join(" ")')
say "image: user '$USER_', entrypoint $ENTRYPOINT, command $CMD, stop signal $STOPSIG, ports $PORTS, health check $HEALTH"
[[ $USER_ =~ ^[0-9]+(:[0-9]+)?$ ]] || die "the image's USER is '$USER_', not a numeric uid[:gid]"
UID_=${USER_%%:*}
[ "$UID_" != 0 ] || die "the image runs as root"
[ "$(jq -r '.[0]' <<<"$HEALTH")" = CMD-SHELL ] || [ "$(jq -r '.[0]' <<<"$HEALTH")" = CMD ] \
  || die "the image has no HEALTHCHECK command ($HEALTH)"
grep -q '/api/health' <<<"$HEALTH" || die "the HEALTHCHECK does not ask /api/health: $HEALTH"
[ "$PORTS" = 8080/tcp ] || die "the image exposes '$PORTS', not 8080/tcp"
[ -n "$STOPSIG" ] || die "the image declares no STOPSIGNAL"
mapfile -t EP < <(jq -r '.[]' <<<"$ENTRYPOINT")
[ ${#EP[@]} -gt 0 ] || die "the image has no ENTRYPOINT"

# Nothing to build or test with in the runtime image.
say "runtime image: no compiler, headers or test tools"
ctr=$(buildah_ from --pull-never "$IMAGE")
root=$(buildah_ mount "$ctr")
bad=()
for f in usr/bin/gcc usr/bin/cc usr/bin/cpp usr/bin/make usr/bin/clang usr/bin/ld \
         usr/bin/dpkg-buildpackage usr/bin/apxs usr/include/apache2 usr/include/postgresql \
         usr/include/jwt.h usr/include/cmocka.h; do
  [ -e "$root/$f" ] || [ -L "$root/$f" ] && bad+=("/$f")
done
pkgs=$(chroot "$root" dpkg-query -W -f='${Package}\n')
mapfile -t -O ${#bad[@]} bad < <(grep -Ex -- '.*-dev|gcc(-[0-9]+)?|cpp(-[0-9]+)?|g\+\+.*|clang.*|binutils.*|make|libcmocka.*|debhelper|dpkg-dev|lintian|autoconf|automake|libtool|libapache-test-perl|libapache2-mod-perl2' <<<"$pkgs" || true)
[ ${#bad[@]} -eq 0 ] || die "the runtime image holds build or test tools: ${bad[*]}"
for p in libapache2-mod-todo sqitch postgresql-client curl; do
  grep -qx "$p" <<<"$pkgs" || die "the runtime image lacks $p"
done
chroot "$root" getent passwd "$UID_" >/dev/null || die "uid $UID_ has no account in the image"
buildah_ umount "$ctr" >/dev/null
buildah_ rm "$ctr" >/dev/null

# -------------------------------------------------------------- PostgreSQL
# TCP only with TLS (hostssl), with a certificate from the test's own CA
# for 127.0.0.1; the image gets the CA and verifies the server.
say "PostgreSQL with TLS on 127.0.0.1 (its own CA)"
PG=$WORK/pg
TLS=$WORK/tls
mkdir -p "$TLS"
(cd "$TLS" \
  && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
       -subj '/CN=mod_todo test CA' -keyout ca.key -out ca.crt \
  && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
       -subj '/CN=127.0.0.1' -keyout server.key -out server.csr \
  && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
       -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out server.crt) >"$WORK/logs/tls.log" 2>&1 \
  || { cat "$WORK/logs/tls.log" >&2; die "could not make the test's certificates"; }
chown "$TODO_USER": "$TLS"/server.*
chmod 600 "$TLS/server.key"
chmod 644 "$TLS/ca.crt"
pg_init "$PG" "$(low_port)"
as_user sh -c "cat >> '$PG/data/postgresql.conf'" <<CONF
ssl = on
ssl_cert_file = '$TLS/server.crt'
ssl_key_file = '$TLS/server.key'
CONF
as_user sed -i 's/^host /hostssl /' "$PG/data/pg_hba.conf"
pg_start "$PG"
PGPORT_=$(cat "$PG/port")
OWNER_PW=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
API_PW=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
pg_psql "$PG" -d postgres <<SQL
CREATE ROLE todo_owner LOGIN PASSWORD '$OWNER_PW';
CREATE ROLE todo_api LOGIN PASSWORD '$API_PW';
CREATE DATABASE todo_ctr OWNER todo_owner;
SQL
CA_IN=/run/mod_todo-test-ca.crt
TLS_PARAMS="sslmode=verify-full&sslrootcert=$CA_IN&connect_timeout=3"
OWNER_URL="postgresql://todo_owner:$OWNER_PW@127.0.0.1:$PGPORT_/todo_ctr?$TLS_PARAMS"
API_URL="postgresql://todo_api:$API_PW@127.0.0.1:$PGPORT_/todo_ctr?$TLS_PARAMS"
# Without TLS the cluster refuses (so the image's sessions below are TLS).
if PGPASSWORD=$API_PW PGSSLMODE=disable psql -X -q -h 127.0.0.1 -p "$PGPORT_" -U todo_api \
     -d todo_ctr -c 'SELECT 1' >/dev/null 2>&1; then
  die "the test cluster accepts connections without TLS"
fi

# ------------------------------------------------------ running the image
SECRET=$(head -c 33 /dev/urandom | base64 -w0)

# run_image NAME [VAR=VALUE...] -- [ARG...]: the image's entrypoint with
# ARGs (or the image's command) in a fresh container from the image, as
# the image's user, with the image's environment plus the VARs, on the
# host's network; the CA mounted where DATABASE_URL names it.  Output in
# WORK/logs/NAME.out and .err; returns the entrypoint's status.
run_image() {
  local name=$1 envs=() args ctr rc
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=(-e "$1"); shift; done
  [ "${1:-}" = -- ] && shift
  if [ $# -gt 0 ]; then args=("$@"); else mapfile -t args < <(jq -r '.[]' <<<"$CMD"); fi
  ctr=$(buildah_ from --pull-never --name "mod_todo-test-$name-$$" "$IMAGE")
  echo "$ctr" >"$WORK/ctr.$name"
  rc=0
  buildah_ run --isolation chroot --network host --user "$USER_" \
    -v "$TLS/ca.crt:$CA_IN:ro" "${envs[@]}" "$ctr" -- "${EP[@]}" "${args[@]}" \
    >"$WORK/logs/$name.out" 2>"$WORK/logs/$name.err" || rc=$?
  return $rc
}
# refused_with NAME PATTERN: the run's stderr is exactly one line, matching
# PATTERN (buildah's own report of the exit status left out: "subprocess
# exited with status 1", "Error: exit status 1").
refused_with() {
  local name=$1 pattern=$2 err
  err=$(grep -Ev '^(subprocess exited with status [0-9]+|Error: exit status [0-9]+)$' "$WORK/logs/$name.err" || true)
  [ "$(grep -c . <<<"$err")" = 1 ] || die "$name: not one line on stderr: $err"
  grep -Eq -- "$pattern" <<<"$err" || die "$name: stderr is '$err', expected /$pattern/"
  say "$name: $err"
}

say "a missing DATABASE_URL stops the container"
if run_image no-database BETTER_AUTH_SECRET="$SECRET"; then
  die "the image started without DATABASE_URL: $(cat "$WORK/logs/no-database.err")"
fi
refused_with no-database '^todo-entrypoint: DATABASE_URL is not set'

say "a short secret stops the container (the module's own refusal)"
if run_image short-secret DATABASE_URL="$API_URL" BETTER_AUTH_SECRET=tooshort; then
  die "the image started with an 8-byte secret"
fi
refused_with short-secret '^todo-entrypoint: configuration refused: TodoJWTSecret: secret is 8 bytes; at least 32 are required'

say "an issuer's JWKS URL instead of the secret: the configuration passes"
run_image jwks-config DATABASE_URL="$API_URL" TODO_JWKS_URL=https://auth.example.com/api/auth/jwks \
  TODO_JWT_ISSUER=https://auth.example.com TODO_JWT_AUDIENCE=https://auth.example.com \
  CORS_ORIGINS=https://app.example.com LOG_LEVEL=debug -- configtest \
  || { cat "$WORK/logs/jwks-config.err" >&2; die "configtest with TODO_JWKS_URL failed"; }
grep -qx 'todo-entrypoint: configuration OK' "$WORK/logs/jwks-config.out" \
  || die "configtest with TODO_JWKS_URL: $(cat "$WORK/logs/jwks-config.out")"
if run_image two-keys DATABASE_URL="$API_URL" BETTER_AUTH_SECRET="$SECRET" \
     TODO_JWKS_URL=https://auth.example.com/api/auth/jwks -- configtest; then
  die "the image accepted both BETTER_AUTH_SECRET and TODO_JWKS_URL"
fi
refused_with two-keys '^todo-entrypoint: both BETTER_AUTH_SECRET and TODO_JWKS_URL are set'

say "migrate into the empty database"
n=$(pg_psql "$PG" -d todo_ctr -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
[ "$n" = 0 ] || die "the database is not empty before migrate ($n tables)"
run_image migrate DATABASE_URL="$OWNER_URL" -- migrate \
  || { cat "$WORK/logs/migrate.out" "$WORK/logs/migrate.err" >&2; die "migrate failed"; }
sed 's/^/    /' "$WORK/logs/migrate.out" >&2
tables=$(pg_psql "$PG" -d todo_ctr -Atc "SELECT string_agg(tablename, ' ' ORDER BY tablename COLLATE \"C\") FROM pg_tables WHERE schemaname = 'public'")
[ "$tables" = "idempotency_keys task_counts task_tombstones tasks token_key tombstone_horizons" ] || die "after migrate the database has tables '$tables'"
planned=$(grep -c '^[A-Za-z]' "$TOP/sql/sqitch.plan")
deployed=$(pg_psql "$PG" -d todo_ctr -Atc "SELECT count(*) FROM sqitch.changes WHERE project = 'mod_todo'")
[ "$deployed" = "$planned" ] || die "sqitch recorded $deployed changes; sql/sqitch.plan has $planned"
[ "$(pg_psql "$PG" -d todo_ctr -Atc "SELECT tableowner FROM pg_tables WHERE tablename = 'tasks'")" = todo_owner ] \
  || die "the tables are not todo_owner's"

say "migrate again: the owner's URL apart, the API's role gets its grants"
run_image migrate-again MIGRATE_DATABASE_URL="$OWNER_URL" DATABASE_URL="$API_URL" -- migrate \
  || { cat "$WORK/logs/migrate-again.out" "$WORK/logs/migrate-again.err" >&2; die "the second migrate failed"; }
grep -q 'Nothing to deploy' "$WORK/logs/migrate-again.out" \
  || die "the second migrate deployed again: $(cat "$WORK/logs/migrate-again.out")"
grep -q 'role todo_api may use it' "$WORK/logs/migrate-again.out" \
  || die "the second migrate did not grant todo_api: $(cat "$WORK/logs/migrate-again.out")"
grants=$(pg_psql "$PG" -d todo_ctr -Atc "SELECT string_agg(table_name || ':' || privilege_type, ' ' ORDER BY table_name COLLATE \"C\", privilege_type) FROM information_schema.role_table_grants WHERE grantee = 'todo_api'")
[ "$grants" = "idempotency_keys:DELETE idempotency_keys:INSERT idempotency_keys:SELECT idempotency_keys:UPDATE task_counts:INSERT task_counts:SELECT task_counts:UPDATE task_tombstones:DELETE task_tombstones:SELECT task_tombstones:UPDATE tasks:DELETE tasks:INSERT tasks:SELECT tasks:UPDATE token_key:SELECT tombstone_horizons:INSERT tombstone_horizons:SELECT tombstone_horizons:UPDATE" ] \
  || die "todo_api's grants after migrate: '$grants'"

# ------------------------------------------------------------------- serve
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
say "serving: the image's command as uid $UID_ on 127.0.0.1:$HTTP_PORT"
run_image serve DATABASE_URL="$API_URL" BETTER_AUTH_SECRET="$SECRET" PORT="$HTTP_PORT" \
  CORS_ORIGINS="https://app.example.com, http://localhost:3000" TODO_PROCESSES=2 &
SERVE_PID=$!
for _ in $(seq 150); do
  curl -s -o /dev/null "$URL/api/health" && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/logs/serve.err" >&2; die "the server stopped"; }
  sleep 0.2
done
res=$(curl -sS -w ' %{http_code}' "$URL/api/health") || die "no answer on $URL/api/health"
[ "${res##* }" = 200 ] || die "/api/health: $res"
jq -e '.data.status == "healthy" and .data.database == "up"' <<<"${res% *}" >/dev/null \
  || die "/api/health: $res"

say "the image's HEALTHCHECK command, in the running container"
hc_ctr=$(cat "$WORK/ctr.serve")
case $(jq -r '.[0]' <<<"$HEALTH") in
  CMD-SHELL) hc=(/bin/sh -c "$(jq -r '.[1]' <<<"$HEALTH")") ;;
  CMD) mapfile -t hc < <(jq -r '.[1:][]' <<<"$HEALTH") ;;
esac
buildah_ run --isolation chroot --network host --user "$USER_" -e PORT="$HTTP_PORT" "$hc_ctr" -- "${hc[@]}" \
  >"$WORK/logs/healthcheck.out" 2>&1 \
  || { cat "$WORK/logs/healthcheck.out" >&2; die "the HEALTHCHECK command failed"; }

say "create and list with an HS256 token signed with BETTER_AUTH_SECRET"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
p=$(printf '{"sub":"container-user","iat":%d,"exp":%d}' "$now" $((now + 600)) | b64url)
key=$(printf '%s' "$SECRET" | od -An -v -tx1 | tr -d ' \n')
s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | b64url)
TOKEN=$h.$p.$s
api() { # METHOD PATH [JSON]: prints "BODY STATUS"
  local body=()
  [ $# -ge 3 ] && body=(-H 'Content-Type: application/json' -d "$3")
  curl -sS -w ' %{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" "${body[@]}" "$URL$2"
}
res=$(api POST /api/v1/tasks '{"title":"Shipped in a container","priority":1}')
[ "${res##* }" = 201 ] || die "create: $res"
ID=$(jq -r '.data.id' <<<"${res% *}")
res=$(api GET /api/v1/tasks)
[ "${res##* }" = 200 ] || die "list: $res"
jq -e --arg id "$ID" '.data.total == 1 and (.data.tasks | map(select(.id == $id and .title == "Shipped in a container")) | length) == 1' \
  <<<"${res% *}" >/dev/null || die "the list does not hold exactly the new task: $res"
res=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer not.a.token' "$URL/api/v1/tasks")
[ "$res" = 401 ] || die "a bad token got $res, not 401"
res=$(curl -sS -D - -o /dev/null -X OPTIONS -H 'Origin: http://localhost:3000' \
  -H 'Access-Control-Request-Method: POST' "$URL/api/v1/tasks")
grep -qi '^Access-Control-Allow-Origin: http://localhost:3000' <<<"$res" \
  || die "CORS_ORIGINS did not reach the module: $res"

say "every process of the container runs as $USER_"
# The container's processes: those below the buildah run whose root
# directory is the container's (buildah's own helpers, running as root,
# are not chrooted).
mapfile -t inside < <(descendants "$SERVE_PID" | while read -r p; do
  [ "$(readlink "/proc/$p/root")" != / ] && echo "$p"; done)
mapfile -t procs < <(for p in "${inside[@]}"; do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = apache2 ] && echo "$p"; done)
[ ${#procs[@]} -eq 3 ] || die "${#procs[@]} apache2 processes, not 3 (the parent and TODO_PROCESSES=2 children)"
for p in "${inside[@]}"; do
  ids=$(awk '/^(Uid|Gid):/ { print $2, $3, $4, $5 }' "/proc/$p/status" | tr '\n' ' ')
  [ "$ids" = "$UID_ $UID_ $UID_ $UID_ ${USER_#*:} ${USER_#*:} ${USER_#*:} ${USER_#*:} " ] \
    || die "process $p ($(cat "/proc/$p/comm")) runs with uid/gid '$ids', not $USER_"
done
say "$(for p in "${inside[@]}"; do cat "/proc/$p/comm"; done | sort | uniq -c | paste -sd ' ') (uid $UID_)"
listeners=$(ss -Hltnp "sport = :$HTTP_PORT" | grep -o 'pid=[0-9]*' | sort -u | cut -d= -f2)
for p in $listeners; do
  printf '%s\n' "${procs[@]}" | grep -qx "$p" || die "port $HTTP_PORT is held by $p, not the image's Apache"
done
ssl=$(pg_psql "$PG" -d postgres -Atc "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'todo_api'")
if [ "${ssl%|*}" -lt 1 ] || [ "${ssl%|*}" != "${ssl#*|}" ]; then
  die "the API's database sessions: $ssl (TLS|all)"
fi
grep -q "\"POST /api/v1/tasks HTTP/1.1\" 201" "$WORK/logs/serve.out" \
  || die "no access log line on stdout: $(tail -n 5 "$WORK/logs/serve.out")"

say "stopping with the image's STOPSIGNAL ($STOPSIG)"
parent=
for p in "${procs[@]}"; do
  [ "$(cat "/proc/$(awk '{ print $4 }' "/proc/$p/stat")/comm")" = apache2 ] || parent=$p
done
[ -n "$parent" ] || die "no Apache parent process"
kill -s "${STOPSIG#SIG}" "$parent"
for _ in $(seq 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVE_PID" 2>/dev/null && die "the server did not stop on $STOPSIG"
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=
[ "$rc" = 0 ] || die "the server exited with status $rc on $STOPSIG"
grep -q 'shutting down gracefully' "$WORK/logs/serve.err" \
  || die "no graceful shutdown in the error log: $(tail -n 5 "$WORK/logs/serve.err")"
say "image $(((SIZE + 500000) / 1000000)) MB, built in $BUILD_SECONDS s"
