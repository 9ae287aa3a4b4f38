#!/usr/bin/env bash
# The Debian package, installed into the machine's own Apache as a sysadmin
# would, then purged.  Run as root by scripts/test.sh (plain pass):
#
#   1. builds libapache2-mod-todo with "dpkg-buildpackage -us -uc -b" out
#      of a copy of the checkout in WORK, and runs lintian on the .deb and
#      the .changes: any error or warning fails;
#   2. creates a PostgreSQL cluster with Debian's tools and defaults
#      (pg_createcluster, its default pg_hba.conf) on a free port below
#      32768, and follows docs/install-debian.md: every fenced block marked
#      <!-- install-test: NAME --> runs as written (install, roles, schema,
#      secret, site, check, upgrade, removal), with the test's password,
#      cluster port and host:port where the guide says to put one's own --
#      a wrong line in the guide fails here;
#   3. writes the virtual host from the shipped example, changing only the
#      lines the guide lists, serves it from the machine's Apache on
#      127.0.0.1:PORT only (ports.conf replaced while the test runs), and
#      creates and lists tasks with a token from todo-token; stops the
#      cluster once (503, log lines well formed) and starts it again
#      (served again without an Apache restart);
#   4. after the guide's removal steps (apt purge): no file of the package,
#      no todo module link or configuration, no state of it left, and
#      /etc/apache2 as before.
#
# The machine is left as it was found, also on failure: /etc/apache2 and
# /var/lib/apache2 restored (ports.conf included), /var/log/apache2 as it
# was (the test's lines are kept in WORK/logs), the package purged, the
# cluster dropped, the system Apache stopped, or running again if it ran
# before (it is stopped for the test).
#
# Usage: t/deploy/install_deb.sh WORK   (as root; WORK is made afresh)
source "$(dirname "$0")/../../scripts/lib.sh"

WORK=${1:?usage: install_deb.sh WORK}
is_root || die "the install test runs as root (it installs a package into the machine's Apache)"
export TODO_HOME=$WORK
CLUSTER=mod_todo_itest
PKG=libapache2-mod-todo
DOC=$TOP/docs/install-debian.md
T0=$(date +%s)

# ------------------------------------------------------------- what it needs
ensure_packages dpkg-dev lintian apache2 postgresql postgresql-common sqitch \
  libdbd-pg-perl curl jq iproute2 diffutils
# The package's Build-Depends, as debian/control lists them.
unmet=$(cd "$TOP" && dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p' \
  | sed -e 's/([^)]*)//g' -e 's/<[^>]*>//g' -e 's/|[^,]*//g' | tr ',' ' ') || true
# shellcheck disable=SC2086
[ -z "${unmet// /}" ] || ensure_packages $unmet
(cd "$TOP" && dpkg-checkbuilddeps) || die "Build-Depends of debian/control not installed"
ensure_user

# One install test at a time on a machine: it owns the system Apache.
exec 9>/run/lock/mod_todo-install-test.lock
flock -w 1800 9 || die "another install test holds /run/lock/mod_todo-install-test.lock"

# --------------------------------------------------- the machine as found
# state_of DIR: every path under DIR with its type, mode, owner, and link
# target or content checksum, one line each.
state_of() {
  [ -d "$1" ] || return 0
  (cd "$1" && find . -printf '%y %m %u:%g %p -> %l\n' | LC_ALL=C sort \
     && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
pkg_state() {
  dpkg-query -W -f='${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n' | LC_ALL=C sort
}
say "install test: recording the machine's Apache and PostgreSQL as found"
rm -rf "$WORK"
prepare_home
ORIG=$WORK/orig
mkdir -p "$ORIG" "$WORK/logs"
chmod 700 "$ORIG"
for d in /etc/apache2 /var/lib/apache2; do
  [ -d "$d" ] || die "$d is missing: apache2 is not installed properly"
  cp -a "$d" "$ORIG/$(basename "$(dirname "$d")")-$(basename "$d")"
  state_of "$d" >"$ORIG/state.${d//\//_}"
done
(cd /var/log/apache2 && find . -type f -printf '%s %T@ %p\n') >"$ORIG/apache-logs"
LOGDIR_MTIME=$(stat -c %Y /var/log/apache2)
pg_lsclusters -h | awk '{ print $1, $2, $3, $4 }' | LC_ALL=C sort >"$ORIG/clusters"
APACHE_WAS_RUNNING=0
system_apache_running && APACHE_WAS_RUNNING=1
DBD_WAS_ENABLED=0
[ -e /etc/apache2/mods-enabled/dbd.load ] && DBD_WAS_ENABLED=1
PGVER=$(pg_bindir | sed 's|^/usr/lib/postgresql/\([0-9]*\)/bin$|\1|')

apache_start() {
  if [ -d /run/systemd/system ]; then systemctl start apache2; else apache2ctl start; fi
}
apache_stop() {
  local i
  if [ -d /run/systemd/system ]; then systemctl stop apache2 || true; fi
  if system_apache_running; then apache2ctl stop || true; fi
  for i in $(seq 100); do system_apache_running || return 0; sleep 0.1; done
  die "the system Apache did not stop"
}

# restore_tree DIR COPY: make DIR what COPY (cp -a of it) was -- remove
# what is new, copy back what changed or went missing.
restore_tree() {
  local dir=$1 copy=$2 p
  (cd "$dir" && find . -mindepth 1 -depth -print0) | while IFS= read -r -d '' p; do
    if [ ! -e "$copy/$p" ] && [ ! -L "$copy/$p" ]; then
      rm -rf "${dir:?}/$p"
    fi
  done
  (cd "$copy" && find . -mindepth 1 -print0) | while IFS= read -r -d '' p; do
    if [ -d "$copy/$p" ] && [ ! -L "$copy/$p" ]; then
      if [ ! -d "$dir/$p" ] || [ -L "$dir/$p" ]; then
        rm -rf "${dir:?}/$p"
        cp -a --no-dereference "$copy/$p" "$dir/$p"
      fi
      chmod --reference="$copy/$p" "$dir/$p"
      chown --no-dereference --reference="$copy/$p" "$dir/$p"
    elif ! { [ -L "$copy/$p" ] && [ -L "$dir/$p" ] \
               && [ "$(readlink "$copy/$p")" = "$(readlink "$dir/$p")" ]; } \
         && ! { [ -f "$copy/$p" ] && [ ! -L "$copy/$p" ] && [ -f "$dir/$p" ] \
                && [ ! -L "$dir/$p" ] && cmp -s "$copy/$p" "$dir/$p"; }; then
      rm -rf "${dir:?}/$p"
      cp -a --no-dereference "$copy/$p" "$dir/$p"
    else
      chmod --reference="$copy/$p" "$dir/$p" 2>/dev/null || true
      chown --no-dereference --reference="$copy/$p" "$dir/$p"
    fi
  done
}

cleanup() {
  local rc=$? d f size mtime problems=()
  set +e
  trap - EXIT INT TERM
  say "install test: restoring the machine"
  system_apache_running && apache_stop
  if dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | grep -q '^.[^n]'; then
    say "purging $PKG (left by a failed step)"
    apt_get purge -y -q "$PKG" >/dev/null
  fi
  # The logs of the test, then the machine's logs as they were.
  if [ -d /var/log/apache2 ]; then
    cp -a /var/log/apache2/. "$WORK/logs/" 2>/dev/null
    (cd /var/log/apache2 && find . -type f) | while read -r f; do
      read -r size mtime < <(awk -v f="$f" '$3 == f { print $1, $2 }' "$ORIG/apache-logs")
      if [ -z "$size" ]; then
        rm -f "/var/log/apache2/$f"
      else
        truncate -s "$size" "/var/log/apache2/$f"
        touch -d "@$mtime" "/var/log/apache2/$f"
      fi
    done
    touch -d "@$LOGDIR_MTIME" /var/log/apache2
  fi
  restore_tree /etc/apache2 "$ORIG/etc-apache2"
  restore_tree /var/lib/apache2 "$ORIG/lib-apache2"
  rm -rf /tmp/mod-todo-new
  if pg_lsclusters -h | awk '{ print $2 }' | grep -qx "$CLUSTER"; then
    pg_dropcluster --stop "$PGVER" "$CLUSTER"
  fi
  [ "$APACHE_WAS_RUNNING" = 1 ] && { apache_start || problems+=("the system Apache did not start again"); }
  for d in /etc/apache2 /var/lib/apache2; do
    if ! diff -u "$ORIG/state.${d//\//_}" <(state_of "$d") >"$WORK/state.diff"; then
      cat "$WORK/state.diff" >&2
      problems+=("$d is not as it was found")
    fi
  done
  # (Only what this test touched: other checkouts' test runs may install
  # packages or create clusters at the same time.)
  if pg_lsclusters -h | awk '{ print $2 }' | grep -qx "$CLUSTER"; then
    problems+=("cluster $CLUSTER is left")
  fi
  if LC_ALL=C comm -23 "$ORIG/clusters" <(pg_lsclusters -h | awk '{ print $1, $2, $3, $4 }' \
       | LC_ALL=C sort) | grep . >&2; then
    problems+=("clusters of the machine changed")
  fi
  chown -R "$TODO_USER": "$WORK/logs"
  if [ ${#problems[@]} -gt 0 ]; then
    printf 'error: the machine was not restored: %s\n' "${problems[@]}" >&2
    rc=1
  fi
  if [ $rc = 0 ]; then
    say "install test passed in $(($(date +%s) - T0)) s (logs: $WORK/logs)"
  else
    printf 'error: install test failed (logs: %s)\n' "$WORK/logs" >&2
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM
[ "$APACHE_WAS_RUNNING" = 1 ] && { say "stopping the system Apache for the test"; apache_stop; }
# A cluster left by an interrupted run of this test.
if pg_lsclusters -h | awk '{ print $2 }' | grep -qx "$CLUSTER"; then
  pg_dropcluster --stop "$PGVER" "$CLUSTER"
  pg_lsclusters -h | awk '{ print $1, $2, $3, $4 }' | LC_ALL=C sort >"$ORIG/clusters"
fi

# ------------------------------------------------------------------ build
VERSION=$(sed -n 's/^AC_INIT(\[mod_todo\], *\[\([^]]*\)\].*/\1/p' "$TOP/configure.ac")
[ -n "$VERSION" ] || die "no version in configure.ac's AC_INIT"
BUILD=$WORK/build
say "building $PKG $VERSION (dpkg-buildpackage -us -uc -b) in $BUILD"
stage_tree "$BUILD/mod-todo-$VERSION"
as_user mkdir -p "$WORK/tmp"
as_user env TMPDIR="$WORK/tmp" sh -c "cd '$BUILD/mod-todo-$VERSION' && dpkg-buildpackage -us -uc -b" \
  >"$WORK/logs/dpkg-buildpackage.log" 2>&1 \
  || { tail -n 40 "$WORK/logs/dpkg-buildpackage.log" >&2; die "dpkg-buildpackage failed"; }
ARCH=$(dpkg --print-architecture)
DEB=$(ls "$BUILD"/${PKG}_*_"$ARCH".deb)
CHANGES=$(ls "$BUILD"/mod-todo_*_"$ARCH".changes)
DEBVERSION=$(dpkg-deb -f "$DEB" Version)
[ "${DEBVERSION%-*}" = "$VERSION" ] \
  || die "the package's version $DEBVERSION does not carry configure.ac's $VERSION"
dpkg-deb -c "$DEB" >"$WORK/logs/contents.txt"

say "lintian $(basename "$DEB") $(basename "$CHANGES")"
as_user env TMPDIR="$WORK/tmp" lintian --fail-on error,warning "$CHANGES" "$DEB" >"$WORK/logs/lintian.txt" 2>&1 \
  || { cat "$WORK/logs/lintian.txt" >&2; die "lintian reports errors or warnings"; }
if grep -E '^[EW]: ' "$WORK/logs/lintian.txt" >&2; then
  die "lintian reports errors or warnings"
fi

# ------------------------------------------------ the guide's command blocks
# doc_block NAME: the fenced block after <!-- install-test: NAME -->.
doc_block() {
  NAME=$1 perl -ne '
    BEGIN { $n = 0; $ok = 0 }
    if (/^<!-- install-test: (\S+) -->$/) { $want = ($1 eq $ENV{NAME}); $n++ if $want; $state = 0; next }
    if ($want && $state == 0) { $state = /^```/ ? 1 : 3; $want = 0 if $state == 3; next }
    if ($want && $state == 1) { if (/^```\s*$/) { $ok++; $want = 0 } else { print } }
    END { exit($n == 1 && $ok == 1 ? 0 : 1) }' "$DOC" \
    || die "docs/install-debian.md: no single block marked '<!-- install-test: $1 -->'"
}
# The table after <!-- install-test: vhost-edits -->: the first word of
# each line it lists ("<VirtualHost", "ServerName", ...).
doc_vhost_edits() {
  perl -ne '
    if (/^<!-- install-test: vhost-edits -->$/) { $in = 1; next }
    next unless $in;
    last if /^\s*$/ && $seen;
    next unless /^\|/;
    $seen = 1;
    next if /^\|\s*(Line|-+)\s*\|/;
    print "$1\n" if /^\|\s*`\s*(<?[A-Za-z]+)/;' "$DOC"
}

# What the guide's commands meet here that a sysadmin's shell would not:
# sudo (we are root; "sudo -u USER" keeps PGPORT, the test cluster's port,
# which sudo would drop), apt (non-interactive, waits for the dpkg lock),
# and systemctl on a machine without systemd (Apache through apache2ctl).
SHIMS=$(cat <<'SH'
sudo() {
  local user=root
  while [ $# -gt 0 ]; do
    case $1 in
      -u) user=$2; shift 2 ;;
      -*) echo "install test: sudo option $1 not understood" >&2; return 2 ;;
      *) break ;;
    esac
  done
  if [ "$user" = root ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}
apt() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 -y -q \
    --no-install-recommends "$@"
}
if [ ! -d /run/systemd/system ]; then
  systemctl() {
    [ "$2" = apache2 ] || { echo "install test: systemctl $* not emulated" >&2; return 2; }
    local pid
    pid=$(cat /var/run/apache2/apache2.pid 2>/dev/null || true)
    case $1 in
      restart|start)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
          [ "$1" = start ] || apache2ctl restart
        else
          apache2ctl start
        fi ;;
      reload) apache2ctl graceful ;;
      stop) apache2ctl stop ;;
      *) echo "install test: systemctl $1 not emulated" >&2; return 2 ;;
    esac
  }
fi
SH
)

DB_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
PGPORT=$(low_port)
HTTP_PORT=$(low_port)
export PGPORT
URL=http://127.0.0.1:$HTTP_PORT

# run_block NAME: run the guide's block NAME in $BUILD (where the .deb is),
# with the test's password for CHANGE-ME and 127.0.0.1:PORT for
# todo.example.com; its output goes to WORK/logs/block-NAME.out.
run_block() {
  local name=$1 code out=$WORK/logs/block-$1.out
  code=$(doc_block "$name") || exit 1
  code=${code//CHANGE-ME/$DB_PASSWORD}
  code=${code//todo.example.com/127.0.0.1:$HTTP_PORT}
  if [ "$name" = remove ] && [ "$DBD_WAS_ENABLED" = 1 ]; then
    # The guide: disable mod_dbd only if nothing else uses it.
    code=$(grep -v 'a2dismod dbd' <<<"$code")
  fi
  say "docs/install-debian.md, block '$name'"
  sed 's/^/    /' <<<"${code//$DB_PASSWORD/CHANGE-ME}" >&2
  (cd "$BUILD" && bash -c "set -euo pipefail
$SHIMS
$code") >"$out" 2>&1 || { cat "$out" >&2; die "block '$name' of docs/install-debian.md failed"; }
}

# --------------------------------------------------------------- PostgreSQL
say "PostgreSQL cluster $PGVER/$CLUSTER on port $PGPORT (pg_createcluster, Debian's defaults)"
pg_createcluster "$PGVER" "$CLUSTER" -p "$PGPORT" --start >"$WORK/logs/pg_createcluster.log" 2>&1 \
  || { cat "$WORK/logs/pg_createcluster.log" >&2; die "pg_createcluster failed"; }
HBA=/etc/postgresql/$PGVER/$CLUSTER/pg_hba.conf
grep -Eq '^local +all +all +peer' "$HBA" || die "$HBA is not Debian's default (local all all peer)"

# ------------------------------------------------------------ install, setup
pkg_state >"$WORK/packages.before"
run_block install
# Nothing but the package itself came in (its dependencies are the test
# command's packages).
added=$(LC_ALL=C comm -13 "$WORK/packages.before" <(pkg_state) | grep -v "^$PKG:" || true)
[ -z "$added" ] || die "installing the package brought more packages: $added"
dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$PKG" | grep -qx "ii  $DEBVERSION" \
  || die "$PKG $DEBVERSION is not installed"
for f in todo.load todo.conf dbd.load; do
  [ -L /etc/apache2/mods-enabled/$f ] || die "the package did not enable the module (mods-enabled/$f missing)"
done
[ "$(readlink -f /etc/apache2/mods-enabled/todo.load)" = /etc/apache2/mods-available/todo.load ] \
  || die "mods-enabled/todo.load does not point to mods-available/todo.load"

run_block database
run_block schema
run_block secret
run_block vhost-copy
SITE=/etc/apache2/sites-available/todo.conf
EXAMPLE=/usr/share/doc/$PKG/examples/todo-vhost.conf.example
[ -f "$SITE" ] || die "the guide's vhost-copy block made no $SITE"

# The edits the guide lists, with this test's values: the site on
# 127.0.0.1:HTTP_PORT, the cluster's port and the password in DBDParams.
say "editing $SITE: only the lines the guide lists"
sed -i -e "s|^<VirtualHost \*:80>|<VirtualHost 127.0.0.1:$HTTP_PORT>|" \
  -e "/^ *DBDParams /s|port=5432|port=$PGPORT|" \
  -e "/^ *DBDParams /s|password=CHANGE-ME|password=$DB_PASSWORD|" "$SITE"
mapfile -t allowed < <(doc_vhost_edits)
[ ${#allowed[@]} -gt 0 ] || die "docs/install-debian.md lists no vhost lines to change (vhost-edits)"
changed=$({ diff "$EXAMPLE" "$SITE" || true; } | sed -n 's/^[<>] *\(<\{0,1\}[A-Za-z]*\).*/\1/p' | sort -u)
[ -n "$changed" ] || die "the vhost edits changed nothing"
for w in $changed; do
  printf '%s\n' "${allowed[@]}" | grep -qxF "$w" \
    || die "the test changed '$w' in the vhost, which the guide does not list"
done

# The system Apache listens on 127.0.0.1:HTTP_PORT only while the test
# runs (ports.conf is restored by cleanup).
printf '# mod_todo install test (restored afterwards)\nListen 127.0.0.1:%s\n' "$HTTP_PORT" \
  >/etc/apache2/ports.conf
run_block enable
for _ in $(seq 100); do system_apache_running && break; sleep 0.1; done
system_apache_running || die "the guide's enable block did not start Apache"
for _ in $(seq 100); do curl -s -o /dev/null "$URL/" && break; sleep 0.1; done
# (Only the system Apache's processes: other checkouts' tests run Apache too.)
main_pid=$(cat /var/run/apache2/apache2.pid)
pids=$(echo "$main_pid"; pgrep -P "$main_pid" || true)
listening=$(ss -Hltnp | while read -r line; do
  for p in $pids; do
    case $line in *"pid=$p,"*) awk '{ print $4 }' <<<"$line"; break ;; esac
  done
done | sort -u)
[ "$listening" = "127.0.0.1:$HTTP_PORT" ] \
  || die "the system Apache listens on '$listening', not 127.0.0.1:$HTTP_PORT only"

# ------------------------------------------------------------------ serving
run_block check
out=$WORK/logs/block-check.out
grep -q '"status":"healthy"' "$out" || die "health did not answer healthy: $(cat "$out")"
[ "$(grep -c '"title":"Buy milk"' "$out")" -ge 2 ] \
  || die "the guide's check did not create and list the task: $(cat "$out")"

say "creating and listing tasks with a token from todo-token"
TOKEN=$(todo-token --secret-file /etc/apache2/todo-jwt.secret --sub install-test --ttl 600)
api() {  # METHOD PATH [JSON]: prints "STATUS BODY"
  local body=()
  [ $# -ge 3 ] && body=(-H 'Content-Type: application/json' -d "$3")
  curl -sS -o "$WORK/resp" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
    "${body[@]}" "$URL$2"
  printf ' '
  cat "$WORK/resp"
}
res=$(api POST /api/v1/tasks '{"title":"Installed from the .deb","priority":2}')
[ "${res%% *}" = 201 ] || die "create: $res"
ID=$(jq -r '.data.id' <<<"${res#* }")
res=$(api GET /api/v1/tasks)
[ "${res%% *}" = 200 ] || die "list: $res"
jq -e --arg id "$ID" '.data.tasks | map(select(.id == $id and .title == "Installed from the .deb")) | length == 1' \
  <<<"${res#* }" >/dev/null || die "the list does not hold the new task: $res"
jq -e '.data.total == 1 and (.data.tasks | length) == 1' <<<"${res#* }" >/dev/null \
  || die "user install-test does not see exactly their one task: $res"
res=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer not.a.token' "$URL/api/v1/tasks")
[ "$res" = 401 ] || die "a bad token got $res, not 401"

# The database goes away and comes back: 503 meanwhile, then served again
# by the same Apache; the error log's lines stay well formed.
say "stopping and starting the cluster under the running Apache"
pg_ctlcluster "$PGVER" "$CLUSTER" stop
res=$(api GET /api/v1/tasks)
[ "${res%% *}" = 503 ] || die "with the database down: $res (not 503)"
pg_ctlcluster "$PGVER" "$CLUSTER" start
for i in $(seq 50); do
  res=$(api GET /api/v1/tasks)
  [ "${res%% *}" = 200 ] && break
  sleep 0.2
done
[ "${res%% *}" = 200 ] || die "not served again after the database came back: $res"
say "served again $((i - 1)) retries after the database came back"
ELOG=/var/log/apache2/error.log
grep -q 'TODO[0-9]*: \[req [0-9a-f]*\]' "$ELOG" || die "no mod_todo line with a request id in $ELOG"
if grep -E '\[req [^0-9a-f]|\[req [0-9a-f]+\].*\[req [0-9a-f]+\]' "$ELOG" >&2; then
  die "garbled or doubled request ids in $ELOG (ErrorLogFormat of the example)"
fi
if grep -E '\[client *\]|\[client [^]]*$' "$ELOG" >&2; then
  die "empty or unclosed client fields in $ELOG (ErrorLogFormat of the example)"
fi

run_block upgrade
dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$PKG" | grep -qx "ii  $DEBVERSION" \
  || die "$PKG $DEBVERSION is not installed after the guide's upgrade"

# ------------------------------------------------------------------ removal
run_block remove
if dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | grep -q '^.[^n]'; then
  die "$PKG is still installed to dpkg after purge: $(dpkg-query -W -f='${db:Status-Abbrev}' "$PKG")"
fi
left=()
while read -r path; do
  path=/${path#./}
  [ -e "$path" ] || [ -L "$path" ] || continue
  [ -d "$path" ] && [ ! -L "$path" ] && case $path in
    */$PKG|*/$PKG/*) ;;
    *) continue ;;          # a directory the package shares (/usr/bin, ...)
  esac
  left+=("$path")
done < <(dpkg-deb -c "$DEB" | awk '{ print $6 }')
[ ${#left[@]} -eq 0 ] || die "files of the package left after purge: ${left[*]}"
for f in /etc/apache2/mods-enabled/todo.load /etc/apache2/mods-enabled/todo.conf \
         /etc/apache2/mods-available/todo.load /etc/apache2/mods-available/todo.conf; do
  [ -e "$f" ] || [ -L "$f" ] && die "$f is left after purge"
done
marker=$(find /var/lib/apache2/module -name todo)
[ -z "$marker" ] || die "a2enmod's state of the module is left after purge: $marker"
res=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/health")
[ "$res" = 404 ] || die "after removal /api/health answers $res, not 404"
# Everything in /etc/apache2 is as found, but the test's ports.conf.
cp -a "$ORIG/etc-apache2/ports.conf" /etc/apache2/ports.conf
diff -u "$ORIG/state._etc_apache2" <(state_of /etc/apache2) >&2 \
  || die "/etc/apache2 after the guide's removal steps is not as it was"
for q in "SELECT count(*) FROM pg_database WHERE datname = 'todo'" \
         "SELECT count(*) FROM pg_roles WHERE rolname = 'todo_app'"; do
  [ "$(runuser -u postgres -- psql -XAtq -c "$q")" = 0 ] \
    || die "the guide's removal left the database or the role (${q##* = })"
done
