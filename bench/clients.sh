#!/usr/bin/env bash
# What clients that never lose or repeat a write cost (docs/api.md §5, §9,
# §10): one command, run as root (or with sudo) on the machine to measure.
# Like bench/run.sh it builds the module and starts a private PostgreSQL
# and an Apache with it (event MPM, 2 children, DBDMax 16), then prints:
#   1. deep pages: page 1 and page 5,000 (20 tasks a page) of a user with
#      100,000 tasks, by offset and by cursor, for three sorts -- wrk at
#      one connection (the latency of one page) and at 8 (pages/s) --, and
#      the database's own time for each (EXPLAIN ANALYZE of the module's
#      statement, generic plan);
#   2. creates without and with an Idempotency-Key (a fresh key each),
#      alternating, several runs each, at 32 connections: req/s, p50, p99,
#      and the ratio; then keyed creates while every user has expired keys
#      to prune (one write in 8 prunes up to 32);
#   2b. the same two create statements without Apache: the backend's CPU
#      time per transaction under pgbench (one client), and their ratio;
#   3. a sync of 10,000 changes (10,000 updates, each its own transaction)
#      from a token, at 100 and 1,000 changes a page, and a full sync of
#      the same 10,000 tasks.
# Environment: TODO_BENCH_HOME (default /var/tmp/mod_todo-bench-clients),
# BENCH_SECS (seconds per wrk run, default 10), BENCH_ROUNDS (create runs
# of each kind, default 3), BENCH_DB_TX (transactions a pgbench round of
# 2b, default 6,000).  Results also go to $TODO_BENCH_HOME/results.txt.
source "$(dirname "$0")/../scripts/lib.sh"

TODO_HOME=${TODO_BENCH_HOME:-/var/tmp/mod_todo-bench-clients}
export TODO_HOME
SECS=${BENCH_SECS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
USERS=50
DEEP=100000
SYNC=10000
PG=$TODO_HOME/pg
WEB=$TODO_HOME/httpd
DATA=$TODO_HOME/data
OUT=$TODO_HOME/results.txt

ensure_packages "${TODO_PACKAGES[@]}" wrk
ensure_user
prepare_home
stage_tree
build_tree

cleanup() {
  set +e
  [ -f "$WEB/httpd.pid" ] && as_user /usr/sbin/apache2 -f "$WEB/httpd.conf" -k stop
  sleep 1
  pg_stop "$PG"
}
trap cleanup EXIT INT TERM

# ------------------------------------------------------------ database
as_user rm -rf "$PG" "$DATA"
as_user mkdir -p "$DATA"
pg_init "$PG" "$(free_port)"
pg_start "$PG"
pg_database "$PG" todo
schema_deploy "$PG" todo
psql_todo() { pg_psql "$PG" -d todo "$@"; }
say "loading: a user with $DEEP tasks, $USERS users for the creates, a user with $SYNC tasks"
psql_todo <<SQL
INSERT INTO tasks (user_id, title, description, completed, completed_at,
                   priority, due_at, created_at, updated_at)
SELECT 'deep', 'Task ' || n || ' ' || md5(n::text),
       CASE WHEN n % 3 = 0 THEN 'Details ' || n END,
       n % 4 = 0, CASE WHEN n % 4 = 0 THEN now() END, n % 4,
       CASE WHEN n % 2 = 0 THEN now() + (n % 5000) * interval '1 hour' END,
       now() - n * interval '1 second', now() - n * interval '1 second'
  FROM generate_series(1, $DEEP) n;
INSERT INTO tasks (user_id, title)
SELECT 'sync', 'sync task ' || n FROM generate_series(1, $SYNC) n;
INSERT INTO tasks (user_id, title)
SELECT 'u' || u, 'seed' FROM generate_series(1, $USERS) u;
VACUUM FULL task_counts;
SQL
psql_todo -c 'VACUUM ANALYZE tasks, task_counts, idempotency_keys'

# ------------------------------------------------------------ Apache
as_user sh -c "umask 077; head -c 48 /dev/urandom | base64 -w0 > '$TODO_HOME/jwt.secret'"
token_of() {
  as_user "$TODO_HOME/build/todo-token" --secret-file "$TODO_HOME/jwt.secret" \
    --sub "$1" --ttl 86400
}
for u in $(seq 1 $USERS); do printf 'u%s %s\n' "$u" "$(token_of "u$u")"; done \
  | as_user tee "$DATA/tokens.txt" >/dev/null
DEEP_TOKEN=$(token_of deep)
SYNC_TOKEN=$(token_of sync)

HTTP_PORT=$(free_port)
as_user mkdir -p "$WEB/logs"
{
httpd_conf_head "$WEB" "$HTTP_PORT" event
cat <<CONF
StartServers 2
ServerLimit 2
ThreadLimit 128
ThreadsPerChild 128
MaxRequestWorkers 256
MinSpareThreads 1
MaxSpareThreads 256
KeepAlive On
MaxKeepAliveRequests 0
DBDriver pgsql
DBDParams "$(dbd_params "$PG" todo)"
DBDMin 16
DBDKeep 16
DBDMax 16
<Location /api>
    SetHandler todo
    Require all granted
    TodoJWTAlgorithms HS256
    TodoJWTSecretFile "$TODO_HOME/jwt.secret"
    TodoPageSize 20 1000
</Location>
CONF
} | as_user tee "$WEB/httpd.conf" >/dev/null
as_user /usr/sbin/apache2 -f "$WEB/httpd.conf" -k start
URL="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 100); do curl -fs "$URL/api/health" >/dev/null && break; sleep 0.1; done

api() { curl -fs -H "Authorization: Bearer $1" "$URL$2"; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin)['data']; print($1)"; }

{
  echo "mod_todo clients benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1); httpd $(apache2 -v | sed -n 's/^Server version: Apache\///p') event MPM, 2 children, DBDMax 16; PostgreSQL $(as_user "$(pg_bindir)/postgres" -V | awk '{print $3}'); wrk on the same machine; $SECS s per wrk run"
} | tee "$OUT"

# ------------------------------------------------------ 1. deep pages
# wrk with one fixed URL: "p50_ms rps" at 1 connection, rps at 8.
as_user tee "$TODO_HOME/get.lua" >/dev/null <<'LUA'
local path, tok = os.getenv("P"), os.getenv("T")
function request() return wrk.format("GET", path, { Authorization = "Bearer " .. tok }) end
function done(s, l) io.write(string.format("RESULT rps=%.1f p50_ms=%.3f non2xx=%d\n",
  s.requests / (s.duration / 1e6), l:percentile(50) / 1000, s.errors.status)) end
LUA
wrk_get() {
  local path=$1 c=$2 out
  out=$(as_user env P="$path" T="$DEEP_TOKEN" wrk -t 1 -c "$c" -d "${SECS}s" \
        -s "$TODO_HOME/get.lua" "$URL" 2>&1)
  echo "$out" | sed -n 's/^RESULT //p'
}
# The database's time for the module's list statement at that page: the
# generic plan, as the module's sessions run it.
db_ms() {
  local label=$1; shift
  local sql args=() a
  sql=$("$SQLTEXT" "$label" $(seq -f '$%g' 1 $#))
  for a in "$@"; do args+=("'${a//\'/\'\'}'"); done
  psql_todo -At <<SQL | sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p'
SET plan_cache_mode = force_generic_plan;
PREPARE s($(printf 'varchar,%.0s' "$@" | sed 's/,$//')) AS $sql;
EXECUTE s($(IFS=,; echo "${args[*]}"));
EXECUTE s($(IFS=,; echo "${args[*]}"));
EXPLAIN (ANALYZE, TIMING OFF) EXECUTE s($(IFS=,; echo "${args[*]}"));
SQL
}
SQLTEXT=$(sqltext_tool)

say "deep pages"
{
  echo
  echo "1. Page 1 and page 5,000 (20 tasks a page) of a user with $DEEP tasks"
  printf '%-12s %-16s %10s %10s %10s %10s\n' sort page "p50 ms/1c" "pages/s 1c" "pages/s 8c" "db ms"
} | tee -a "$OUT"
for sort in -created_at title due_at; do
  case $sort in
    -created_at) label=todo_listp_created_desc ;;
    title) label=todo_listp_title_asc ;;
    due_at) label=todo_listp_due_asc ;;
  esac
  base="/api/v1/tasks?limit=20&sort=$sort"
  # The cursor after task 99,980 (the last of page 4,999), from an offset
  # page, and the sort key and id of that task, for the database's time.
  cursor=$(api "$DEEP_TOKEN" "$base&offset=99960" | json "d['next_cursor']")
  for page in "1 offset" "5000 offset" "5000 cursor"; do
    set -- $page
    case "$1 $2" in
      "1 offset") path="$base"; dbargs=(deep deep '' '' 21 0) ;;
      "5000 offset") path="$base&offset=99980"; dbargs=(deep deep '' '' 21 99980) ;;
      "5000 cursor") path="$base&cursor=$cursor"
        case $sort in
          -created_at) q="SELECT CAST(created_at AS text) || '|' || id FROM tasks WHERE user_id = 'deep' ORDER BY created_at DESC, id DESC OFFSET 99979 LIMIT 1" ;;
          title) q="SELECT lower(title) || '|' || id FROM tasks WHERE user_id = 'deep' ORDER BY lower(title) COLLATE \"C\", id OFFSET 99979 LIMIT 1" ;;
          due_at) q="SELECT CAST(COALESCE(due_at, 'infinity') AS text) || '|' || id FROM tasks WHERE user_id = 'deep' ORDER BY COALESCE(due_at, 'infinity'), id OFFSET 99979 LIMIT 1" ;;
        esac
        kv=$(psql_todo -At -c "$q")
        dbargs=(deep deep "${kv%|*}" "${kv#*|}" 21 0) ;;
    esac
    r1=$(wrk_get "$path" 1)
    r8=$(wrk_get "$path" 8)
    printf '%-12s %-16s %10s %10s %10s %10s\n' "$sort" "$1 by $2" "$(field "$r1" p50_ms)" \
      "$(field "$r1" rps)" "$(field "$r8" rps)" "$(db_ms "$label" "${dbargs[@]}")" | tee -a "$OUT"
  done
done

# ------------------------------------------- 2. creates with and without a key
run_create() {
  local mode=$1 out
  out=$(as_user wrk -t 2 -c 32 -d "${SECS}s" -s "$TODO_HOME/src/bench/clients.lua" "$URL" \
        -- "$mode" "$DATA" 2>&1) || { echo "wrk failed: $out" >&2; return 1; }
  echo "$out" | sed -n 's/^RESULT //p'
}
reset_tasks() {
  psql_todo -q -c "DELETE FROM tasks WHERE title LIKE 'bench task%'" \
    -c "DELETE FROM idempotency_keys WHERE user_id LIKE 'u%'" \
    -c "VACUUM ANALYZE tasks, task_counts, idempotency_keys"
}
# A site's table of keys is not empty: a day's worth of other users' keys
# (not expired, so nothing to prune), and statistics that say so.  (Left
# empty and vacuumed, the table's statistics say "no rows", PostgreSQL
# plans sequential scans of it until autovacuum analyzes it again, and a
# 10 s run never gets there.)
psql_todo -q <<SQL
INSERT INTO idempotency_keys (user_id, key, fingerprint, status, request_id, body)
SELECT 'other-' || (n % 1000), 'k-' || n, sha256(n::text::bytea), 201, 'r', repeat('x', 400)
  FROM generate_series(1, 100000) n;
SQL
say "creates without and with an Idempotency-Key"
{
  echo
  echo "2. Creates at 32 connections, $USERS users: without a key, and with a fresh key each (alternating runs)"
  printf '%-28s %10s %8s %8s %10s\n' run "req/s" "p50 ms" "p99 ms" non2xx/err
} | tee -a "$OUT"
plain_sum=0; keyed_sum=0
for i in $(seq 1 "$ROUNDS"); do
  for mode in plain keyed; do
    reset_tasks
    r=$(run_create "$mode")
    printf '%-28s %10s %8s %8s %10s\n' "$mode $i" "$(field "$r" rps)" "$(field "$r" p50_ms)" \
      "$(field "$r" p99_ms)" "$(field "$r" non2xx)/$(field "$r" errors)" | tee -a "$OUT"
    if [ "$mode" = plain ]; then plain_sum=$(echo "$plain_sum $(field "$r" rps)" | awk '{print $1 + $2}')
    else keyed_sum=$(echo "$keyed_sum $(field "$r" rps)" | awk '{print $1 + $2}'); fi
  done
done
echo "$plain_sum $keyed_sum $ROUNDS" | awk '{ printf "mean: without a key %.1f req/s, with a key %.1f req/s: a keyed create costs %.2fx\n", $1 / $3, $2 / $3, ($2 > 0) ? $1 / $2 : 0 }' | tee -a "$OUT"
# Pruning: every keyed create now finds expired keys of its user to delete
# (one in 8 deletes up to 32), more than the run can consume.
reset_tasks
psql_todo -q <<SQL
INSERT INTO idempotency_keys (user_id, key, fingerprint, status, request_id, created_at)
SELECT 'u' || (1 + n % $USERS), 'expired-' || n, sha256('x'), 201, 'r',
       now() - interval '2 days' - n * interval '1 millisecond'
  FROM generate_series(1, 600000) n;
VACUUM ANALYZE idempotency_keys;
SQL
before=$(psql_todo -At -c "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'expired-%'")
r=$(run_create keyed)
after=$(psql_todo -At -c "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'expired-%'")
printf '%-28s %10s %8s %8s %10s   (%d expired keys pruned)\n' "keyed, with keys to prune" \
  "$(field "$r" rps)" "$(field "$r" p50_ms)" "$(field "$r" p99_ms)" \
  "$(field "$r" non2xx)/$(field "$r" errors)" $((before - after)) | tee -a "$OUT"

# ------------------------------- 2b. the same creates, the database alone
# The backend's CPU time per transaction for the module's two create
# statements (their exact text, bench/sqltext.c), under pgbench -M
# prepared with the module's session settings: one client, so that the
# backend's own counters (/proc/PID/stat) say what each transaction cost
# it, and synchronous_commit off, so that no transaction waits for a WAL
# flush (the same for both).  Alternating rounds on the same tables as
# above, the minimum of each: the machine's noise only adds.
say "the creates' statements, the database alone"
PGB=$DATA/pgbench
as_user mkdir -p "$PGB"
# Users "1" to "50" (pgbench draws numbers), a fresh key each; one keyed
# write in 8 may prune (TODO_SQL_PRUNE_EVERY), as the module's
# fingerprints decide.  pgbench cannot define an empty variable (-D e= is
# refused): each client sets :e once, as bench/run.sh does.
PGB_HEAD="\\if :init
SELECT '' AS e, 0 AS init \\gset
\\endif
\\set u random(1, $USERS)
\\set p random(0, 3)"
{ echo "$PGB_HEAD"; "$SQLTEXT" todo_create :u :title :descr :f :p :e; } \
  | as_user tee "$PGB/plain.sql" >/dev/null
{ echo "$PGB_HEAD"; echo '\set k random(1, 1000000000000)'
  echo '\set pr random(0, 7)'; echo '\set prune 32 * (1 - least(:pr, 1))'
  "$SQLTEXT" todo_create_idem :u :title :descr :f :p :e :head :tail :loc :k :fp \
    :rid :keep :prune; } | as_user tee "$PGB/keyed.sql" >/dev/null
reset_db_tasks() {
  psql_todo -q -c "DELETE FROM tasks WHERE user_id ~ '^[0-9]+\$'" \
    -c "DELETE FROM idempotency_keys WHERE user_id ~ '^[0-9]+\$'" \
    -c "VACUUM ANALYZE tasks, task_counts, idempotency_keys"
}
DB_TX=${BENCH_DB_TX:-6000}
# backend_us SCRIPT: the backend's CPU µs per transaction of one run.
backend_us() {
  local pid="" t=0 last=0 i bg
  (cd "$PGB" && as_user env PGOPTIONS="$("$SQLTEXT" --session) -c synchronous_commit=off" \
     pgbench -n -M prepared -c 1 -t "$DB_TX" -D init=1 -D f=f -D "title=bench task" \
     -D "descr=created by the benchmark" -D 'head={"data":' \
     -D 'tail=,"meta":{"request_id":"bench"}}' -D loc=/api/v1/tasks/ \
     -D "fp=$(printf '%064d' 0)" -D rid=bench -D keep=86400 \
     -h "$PG" -p "$(cat "$PG/port")" -f "$1" todo >"$PGB/out.txt" 2>&1) &
  bg=$!
  for i in $(seq 200); do
    pid=$(pgrep -u "$TODO_USER" -f "^postgres: $TODO_USER todo \[local\]" | head -n1) || true
    [ -n "$pid" ] && break
    sleep 0.01
  done
  while [ -n "$pid" ] && t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null); do
    last=$t
    sleep 0.05
  done
  wait "$bg" || { cat "$PGB/out.txt" >&2; return 1; }
  echo $((last * 1000000 / $(getconf CLK_TCK) / DB_TX))
}
{
  echo
  echo "2b. The same creates, the database alone: the backend's CPU µs a transaction (pgbench, 1 client, $DB_TX transactions a round, synchronous_commit off)"
  printf '%-28s %s\n' statement "rounds (µs)"
} | tee -a "$OUT"
declare -A best rounds
for i in $(seq 1 "$ROUNDS"); do
  for st in plain keyed; do
    reset_db_tasks
    us=$(backend_us "$st.sql")
    rounds[$st]="${rounds[$st]:-} $us"
    if [ -z "${best[$st]:-}" ] || [ "$us" -lt "${best[$st]}" ]; then best[$st]=$us; fi
  done
done
for st in plain keyed; do
  printf '%-28s %s\n' "$st (todo_create$([ $st = keyed ] && echo _idem))" "${rounds[$st]}" | tee -a "$OUT"
done
echo "${best[plain]} ${best[keyed]}" | awk '{ printf "minimum: without a key %d µs, with a key %d µs: the keyed statement costs the database %.2fx\n", $1, $2, ($1 > 0) ? $2 / $1 : 0 }' | tee -a "$OUT"

# ------------------------------------------- 3. a sync of 10,000 changes
say "a sync of $SYNC changes"
sync_all() {   # sync_all SINCE LIMIT: "changes pages ms" and the token in $TOKEN_OUT
  python3 - "$URL" "$SYNC_TOKEN" "$1" "$2" <<'PY'
import json, sys, time, urllib.request
url, tok, since, limit = sys.argv[1:5]
n = pages = 0
t0 = time.time()
while True:
    q = f"{url}/api/v1/changes?limit={limit}" + (f"&since={since}" if since else "")
    req = urllib.request.Request(q, headers={"Authorization": "Bearer " + tok})
    d = json.load(urllib.request.urlopen(req))["data"]
    n += len(d["changes"]); pages += 1; since = d["next_token"]
    if not d["has_more"]:
        break
print(n, pages, "%.1f" % ((time.time() - t0) * 1000), since)
PY
}
{
  echo
  echo "3. Syncs of a user with $SYNC tasks (one client, pages one after another)"
  printf '%-44s %8s %6s %10s %12s\n' sync changes pages "total ms" "ms per page"
} | tee -a "$OUT"
for limit in 100 1000; do
  read -r n pages ms token <<<"$(sync_all '' "$limit")"
  printf '%-44s %8s %6s %10s %12.2f\n' "full sync, $limit a page" "$n" "$pages" "$ms" \
    "$(echo "$ms $pages" | awk '{print $1 / $2}')" | tee -a "$OUT"
done
# 10,000 updates, each its own transaction (10,000 transaction ids);
# without waiting for each commit's WAL flush, only to load faster.
psql_todo -q <<'SQL'
SET synchronous_commit = off;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT id FROM tasks WHERE user_id = 'sync' LOOP
    UPDATE tasks SET title = title || '.', version = version + 1 WHERE user_id = 'sync' AND id = r.id;
    COMMIT;
  END LOOP;
END
$$;
SQL
for limit in 100 1000; do
  read -r n pages ms _ <<<"$(sync_all "$token" "$limit")"
  printf '%-44s %8s %6s %10s %12.2f\n' "after $SYNC updates, $limit a page" "$n" "$pages" "$ms" \
    "$(echo "$ms $pages" | awk '{print $1 / $2}')" | tee -a "$OUT"
done
say "results in $OUT"
