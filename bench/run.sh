#!/usr/bin/env bash
# mod_todo benchmark: one command, run as root (or with sudo) on the machine
# to measure.  It builds the module, starts a private PostgreSQL and an
# Apache with the module exactly as a user would (event MPM, or worker or
# prefork with TODO_MPM=worker|prefork), loads 200 users x 500 tasks, and
# then, for each scenario (list, get, create, patch, mix 80/20) at 32 and
# 128 connections:
#   - drives the API with wrk (bench/bench.lua spreads requests over the
#     users' tokens and tasks) and prints requests/s, p50, p99 (wrk's and
#     Apache's own), non-2xx answers and socket errors;
#   - runs pgbench with the module's own SQL statements (the very text the
#     module prepares, same parameters, prepared mode, same concurrency) as
#     the database's ceiling, and prints module/pgbench and pgbench's p99;
# then measures the HTTP floor (what the same Apache serves when mod_todo
# answers without the database) and the RSS of the httpd children before
# and after 200,000 requests of the mix.
#
# Environment: TODO_BENCH_HOME (work area, default /var/tmp/mod_todo-bench),
# TODO_MPM (event|worker|prefork), BENCH_SECS (seconds per run, default 15),
# BENCH_CONNS (default "32 128"), BENCH_SCENARIOS (default
# "list get create patch mix"), BENCH_MEM_REQUESTS (default 200000).
# BENCH_AUTOGROUP=keep leaves the kernel's scheduler autogroups as they are
# (by default they are switched off while the benchmark runs, see below).
# BENCH_DBDMAX: DBDMax per child with the event/worker MPM (default 16).
# BENCH_PG_SET="name=value ...": PostgreSQL settings for the run, on top of
# what scripts/serve.sh sets (e.g. synchronous_commit=off to see how much
# of the writes' latency is the WAL flush; README, Performance).
# BENCH_HOLD=1 sets everything up, then waits with the servers running.
# BENCH_MODE=ops measures, instead of the scenarios, what the operations
# features cost: metrics on vs off, a rate limit that never triggers vs
# none, and latency at a fixed load (bench/ops.sh says how; its own
# BENCH_OPS_* settings are there).  BENCH_MODE=instr counts the
# instructions Apache executes per request for the same pairs, under
# callgrind (bench/instr.sh).
# Results are also written to $TODO_BENCH_HOME/results.txt.
source "$(dirname "$0")/../scripts/lib.sh"

TODO_HOME=${TODO_BENCH_HOME:-/var/tmp/mod_todo-bench}
export TODO_HOME
MPM=${TODO_MPM:-event}
mpm_check "$MPM"
SECS=${BENCH_SECS:-15}
CONNS=${BENCH_CONNS:-32 128}
SCENARIOS=${BENCH_SCENARIOS:-list get create patch mix}
MEM_REQUESTS=${BENCH_MEM_REQUESTS:-200000}
USERS=200
TASKS_PER_USER=500
PAIRS=200            # (user, task) pairs used by get/patch, both sides
THREAD_CHILDREN=2    # event/worker MPM: children, and database connections each
# DBDMax per child: what serve.sh and conf/todo-vhost.conf.example ship.
THREAD_DBDMAX=${BENCH_DBDMAX:-16}
PG=$TODO_HOME/pg
WEB=$TODO_HOME/httpd
DATA=$TODO_HOME/data
OUT=$TODO_HOME/results.txt

ensure_packages "${TODO_PACKAGES[@]}" wrk
ensure_user
prepare_home
stage_tree
build_tree

# Scheduler autogroups (kernel.sched_autogroup_enabled, on by default) make
# every session -- Apache and PostgreSQL each call setsid() as they start --
# one scheduling entity with an equal share.  On a saturated machine this
# starves single PostgreSQL backends for hundreds of milliseconds (seen
# with perf sched): most of the p99, and a fifth of the throughput.  It is
# a desktop feature; database servers are commonly run without it, and so
# is this benchmark unless BENCH_AUTOGROUP=keep.  The setting applies to
# processes as they start, so it is made before PostgreSQL and Apache
# start, and restored at exit.
AUTOGROUP=/proc/sys/kernel/sched_autogroup_enabled
AUTOGROUP_WAS=
if [ "${BENCH_AUTOGROUP:-off}" != keep ] && [ -w "$AUTOGROUP" ] \
   && [ "$(cat "$AUTOGROUP")" = 1 ]; then
  AUTOGROUP_WAS=1
  echo 0 > "$AUTOGROUP"
fi
autogroup_state() {
  if [ -r "$AUTOGROUP" ]; then
    case $(cat "$AUTOGROUP") in 1) echo on ;; *) echo off ;; esac
  else
    echo "not in this kernel"
  fi
}

cleanup() {
  set +e
  [ -f "$WEB/httpd.pid" ] && as_user /usr/sbin/apache2 -f "$WEB/httpd.conf" -k stop
  sleep 1
  pg_stop "$PG"
  [ -n "$AUTOGROUP_WAS" ] && echo "$AUTOGROUP_WAS" > "$AUTOGROUP"
}
trap cleanup EXIT INT TERM

# ------------------------------------------------------------ database
as_user rm -rf "$PG" "$DATA"
as_user mkdir -p "$DATA"
pg_init "$PG" "$(free_port)"
pg_start "$PG"
PG_SET=${BENCH_PG_SET:-}
if [ -n "$PG_SET" ]; then
  for kv in $PG_SET; do
    [[ $kv =~ ^[a-z_]+=[A-Za-z0-9_.:-]+$ ]] || die "BENCH_PG_SET: bad setting '$kv'"
    pg_psql "$PG" -d postgres -c "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}'" >/dev/null
  done
  pg_stop "$PG"     # a restart, for settings that need one
  pg_start "$PG"
fi
pg_database "$PG" todo
schema_deploy "$PG" todo
say "loading $USERS users x $TASKS_PER_USER tasks"
# User ids are decimal strings (100001...), so pgbench can draw them with
# \set; the module treats user ids as opaque text either way.
pg_psql "$PG" -d todo <<SQL
INSERT INTO tasks (user_id, title, description, completed, completed_at,
                   priority, due_at, created_at, updated_at)
SELECT (100000 + u)::text,
       'Task ' || n || ' of user ' || u,
       CASE WHEN n % 3 = 0 THEN 'Details for task ' || n END,
       n % 4 = 0, CASE WHEN n % 4 = 0 THEN now() END,
       n % 4,
       CASE WHEN n % 2 = 0 THEN now() + n * interval '1 hour' END,
       now() - (${TASKS_PER_USER} - n) * interval '1 minute',
       now() - (${TASKS_PER_USER} - n) * interval '1 minute'
  FROM generate_series(1, ${USERS}) u, generate_series(1, ${TASKS_PER_USER}) n;
-- The triggers updated each user's task_counts row 500 times in this one
-- transaction: 100,000 dead row versions (5 MB for 200 rows) that every
-- list's count lookup would wade through until autovacuum happened to run,
-- which made list figures depend on its timing (6,500 vs 10,500 lists/s).
VACUUM FULL task_counts;
VACUUM ANALYZE tasks, task_counts;
SQL
# One random task of every user: what get/patch hit, on both sides.
pg_psql "$PG" -d todo -At -F ' ' -c \
  "SELECT DISTINCT ON (user_id) user_id, id FROM tasks ORDER BY user_id, random()" \
  | as_user tee "$DATA/tasks.txt" >/dev/null

# ------------------------------------------------------------ Apache
as_user sh -c "umask 077; head -c 48 /dev/urandom | base64 -w0 > '$TODO_HOME/jwt.secret'"
for u in $(seq 100001 $((100000 + USERS))); do
  printf '%s %s\n' "$u" "$(as_user "$TODO_HOME/build/todo-token" \
    --secret-file "$TODO_HOME/jwt.secret" --sub "$u" --ttl 86400)"
done | as_user tee "$DATA/tokens.txt" >/dev/null

HTTP_PORT=$(free_port)
as_user mkdir -p "$WEB/logs"
as_user rm -f "$WEB/logs/access.log" "$TODO_HOME/wrk.log" "$TODO_HOME/pgbench.log"
{
httpd_conf_head "$WEB" "$HTTP_PORT" "$MPM"
cat <<CONF
# Access log lines are written in batches, as a busy site would do.
BufferedLogs On
CustomLog "$WEB/logs/access.log" todo
# Fixed number of children, so their memory can be followed.
# Enough workers for every benchmark connection: at MaxRequestWorkers the
# event MPM starts closing idle keep-alive connections (and the worker MPM
# holds a thread per open connection).
<IfModule !mpm_prefork_module>
    StartServers $THREAD_CHILDREN
    ServerLimit $THREAD_CHILDREN
    ThreadLimit 128
    ThreadsPerChild 128
    MaxRequestWorkers $((THREAD_CHILDREN * 128))
    MinSpareThreads 1
    MaxSpareThreads $((THREAD_CHILDREN * 128))
    MaxConnectionsPerChild 0
</IfModule>
<IfModule mpm_prefork_module>
    StartServers 32
    ServerLimit 160
    MinSpareServers 32
    MaxSpareServers 160
    MaxRequestWorkers 160
    MaxConnectionsPerChild 0
</IfModule>
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
DBDriver pgsql
DBDParams "$(dbd_params "$PG" todo)"
# As many database connections as requests a child serves at once at 32
# connections: a request that has to wait for a pooled connection costs
# Apache one more sleep and wake-up (apr_reslist's condition variable),
# about 1.3 more context switches per request at DBDMax 8 (perf sched).
<IfModule !mpm_prefork_module>
    DBDMin $THREAD_DBDMAX
    DBDKeep $THREAD_DBDMAX
    DBDMax $THREAD_DBDMAX
</IfModule>
<IfModule mpm_prefork_module>
    DBDMin 1
    DBDKeep 1
    DBDMax 1
</IfModule>
<Location /api>
    SetHandler todo
    Require all granted
    TodoJWTAlgorithms HS256
    TodoJWTSecretFile "$TODO_HOME/jwt.secret"
</Location>
CONF
} | as_user tee "$WEB/httpd.conf" >/dev/null
as_user /usr/sbin/apache2 -f "$WEB/httpd.conf" -k start
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$HTTP_PORT/api/health" >/dev/null && break
  sleep 0.1
done
URL="http://127.0.0.1:$HTTP_PORT"

# BENCH_HOLD=1: stop here with both servers up, for profiling by hand
# (bench/README.md); Ctrl-C or a TERM stops them.
if [ "${BENCH_HOLD:-0}" = 1 ]; then
  say "holding: $URL, data in $DATA, Apache pid $(cat "$WEB/httpd.pid"), PostgreSQL socket in $PG"
  echo "wrk -t 2 -c 32 -d 15s -s $TODO_HOME/src/bench/bench.lua $URL -- get $DATA"
  sleep infinity &
  wait $!
  exit 0
fi

# ------------------------------------------------------------ pgbench
# The statements, with the module's exact text, written for pgbench.
SQLTEXT=$(sqltext_tool)
PGB=$DATA/pgbench
mkdir -p "$PGB"
# pgbench cannot bind SQL NULL in prepared mode; the module binds "" for
# "absent" (its statements map '' to NULL), so both send the same values.
# pgbench cannot define an empty variable either (-D e= is refused): each
# client sets :e once, with one query on its first transaction.
INIT='\if :init
SELECT '"''"' AS e, 0 AS init \gset
\endif'
cat > "$PGB/list.sql" <<EOF
$INIT
\set u random(100001, $((100000 + USERS)))
$("$SQLTEXT" todo_listp_created_desc :u :u :e :e :lim :off)
EOF
cat > "$PGB/create.sql" <<EOF
$INIT
\set u random(100001, $((100000 + USERS)))
\set p random(0, 3)
$("$SQLTEXT" todo_create :u :title :descr :f :p :due)
EOF
# lim: the module asks for one task more than the page holds (is there a
# next page?), from the start of the sort (no cursor: :e, :e).
DEFS=(-D init=1 -D lim=21 -D off=0 -D f=f -D "title=bench task"
      -D "descr=created by the benchmark" -D "due=2030-01-01T00:00:00Z")
# get/patch pick one of the PAIRS (user, task) pairs at random, as
# bench.lua does.  pgbench variables cannot hold a list and pgbench takes at
# most 128 scripts, so one script branches on a random number; each branch
# is the module's statement with that pair's variables.  The branches form
# a balanced tree of \if (8 tests for 200 pairs) rather than a chain of
# \elif (100 tests on average): pgbench shares the cores with PostgreSQL,
# and every test it evaluates is CPU taken from the ceiling.
# pgbench prepares each branch's statement on a connection when that
# connection first runs it: drawing from all 200 pairs, every connection
# would prepare and keep 200 plans of one statement where the module keeps
# one -- seen as a 10-15 s ramp in a 15 s run (25,600 statements to
# prepare at 128 clients) and a working set 200 times larger.  So each
# client draws at random from its own share of the pairs (those whose
# number is its client_id modulo the number of clients): all 200 are used,
# and each is prepared once.  No two pgbench clients then write the same
# row, while wrk's connections sometimes do: for patch the ceiling is, if
# anything, too high.
PICK="\\set n greatest(1, ($PAIRS - 1 - :client_id) / :nclients + 1)
\\set k (:client_id + :nclients * random(0, :n - 1)) % $PAIRS + 1"
GET_SQL=$("$SQLTEXT" todo_get :uK :tK)
PATCH_SQL=$("$SQLTEXT" todo_update :uK :tK :e :e :f :e :f :e :p :f :e)
i=0
while read -r user id; do
  i=$((i + 1))
  DEFS+=(-D "u$i=$user" -D "t$i=$id")
done < "$DATA/tasks.txt"
[ "$i" -eq "$PAIRS" ] || die "expected $PAIRS (user, task) pairs, found $i"
# pair_tree LO HI SQL: the script lines choosing pair :k in LO..HI.
pair_tree() {
  local lo=$1 hi=$2 sql=$3 mid
  if [ "$lo" -eq "$hi" ]; then
    sql=${sql//:uK/:u$lo}
    echo "${sql//:tK/:t$lo}"
    return
  fi
  mid=$(((lo + hi) / 2))
  echo "\if :k <= $mid"
  pair_tree "$lo" "$mid" "$sql"
  echo '\else'
  pair_tree $((mid + 1)) "$hi" "$sql"
  echo '\endif'
}
{ echo "$PICK"; pair_tree 1 "$PAIRS" "$GET_SQL"; } > "$PGB/get.sql"
{ echo "$INIT"; echo '\set p random(0, 3)'; echo "$PICK"
  pair_tree 1 "$PAIRS" "$PATCH_SQL"; } > "$PGB/patch.sql"
if is_root; then chown -R "$TODO_USER": "$PGB"; fi

# The pgbench -f arguments of a scenario (mix: 40 % list, 40 % get,
# 10 % create, 10 % patch, as bench.lua does).
pgbench_files() {
  case $1 in
    mix) echo "-f $PGB/list.sql@40 -f $PGB/get.sql@40 -f $PGB/create.sql@10 -f $PGB/patch.sql@10" ;;
    *) echo "-f $PGB/$1.sql" ;;
  esac
}

# The ceiling of a scenario at C connections: pgbench with the module's
# statements, both at C clients and at the number of database connections
# the module itself uses (its pool), whichever the database serves faster.
# Database connections the module itself opens: event/worker, DBDMax per
# child times children; prefork, one per busy child, so as many as
# connections.
module_conns() {
  if [ "$MPM" != prefork ]; then echo $((THREAD_DBDMAX * THREAD_CHILDREN)); else echo "$1"; fi
}
ceiling() {
  local s=$1 c=$2 a b m
  m=$(module_conns "$c")
  a=$(run_pgbench "$s" "$c" latency)
  [ "$m" = "$c" ] && { echo "$a"; return; }
  reset_data
  b=$(run_pgbench "$s" "$m")
  # a: tps cpu p99 raw; b: tps cpu.  The faster one's tps and CPU.
  echo "$a $b" | awk '{ print (($1 > $5) ? $1 " " $2 : $5 " " $6), $3, $4 }'
}

# p99_ms: the 99th percentile of the microsecond values on stdin, in ms.
p99_ms() {
  sort -n | awk '{ v[NR] = $1 } END {
    i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f", (NR ? v[i] / 1000 : 0) }'
}

# pgbench's sessions get the settings the module gives its own.
PGB_OPTIONS=$("$SQLTEXT" --session)
# pgbench prepares each statement of a script on each connection when it
# first runs it, during the timed run (for get and patch, the branches of
# the client's share of the pairs); the module prepared its own when Apache
# started.  So the ceiling is pgbench's steady state: its progress reports
# (-P 1) and latencies after the first WARM seconds.
WARM=2
# run_pgbench SCENARIO CLIENTS [latency]: prints transactions/s, and with
# "latency" also two p99 latencies in ms of the database alone at that
# concurrency, from a 5 % sample of pgbench's per-transaction log (the
# sample keeps the logging from slowing pgbench down): first as wrk counts
# (with wrk's correction, see co_correct), then as measured.
run_pgbench() {
  local s=$1 c=$2 log=() out tps m1 m2 cpu me=$BASHPID
  rm -f "$PGB"/lat.*
  [ "${3:-}" = latency ] && log=(-l --sampling-rate 0.05 --log-prefix "$PGB/lat")
  m1=$(cpu_mark "$me")
  # shellcheck disable=SC2046
  out=$(cd "$PGB" && as_user env PGOPTIONS="$PGB_OPTIONS" pgbench -n -M prepared \
    -c "$c" -j 2 -T "$SECS" -P 1 -D "nclients=$c" "${log[@]}" \
    -h "$PG" -p "$(cat "$PG/port")" "${DEFS[@]}" $(pgbench_files "$s") todo \
    2>&1 | tee -a "$TODO_HOME/pgbench.log")
  sleep 0.2     # the backends exit as pgbench disconnects; let them be reaped
  m2=$(cpu_mark "$me")
  # CPU per transaction, over the whole run.
  cpu=$(cpu_per_request "$m1" "$m2" "$(echo "$out" \
    | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')")
  # "progress: 3.0 s, 40123.4 tps, lat ..."; the overall figure if none.
  tps=$(echo "$out" | awk -v warm=$WARM '
    /^progress: / { if ($2 + 0 > warm) { sum += $4; n++ } }
    /^tps = / { all = $3 }
    END { printf "%.1f", n ? sum / n : all }')
  if [ ${#log[@]} -eq 0 ]; then echo "$tps $cpu"; return; fi
  # Log lines: client, transaction, latency (us), script, epoch s, us.
  cat "$PGB"/lat.* | awk -v warm=$WARM '
    { t[NR] = $5; v[NR] = $3; if (NR == 1 || $5 < t0) t0 = $5 }
    END { for (i = 1; i <= NR; i++) if (t[i] >= t0 + warm) print v[i] }' \
    > "$PGB/lat.steady"
  echo "$tps $cpu $(co_correct "$c" "$tps" < "$PGB/lat.steady" | p99_ms)" \
    "$(p99_ms < "$PGB/lat.steady")"
}

# ------------------------------------------------------------ CPU
# Where each request's CPU goes: user + system time of every process of
# Apache and of PostgreSQL (their parents' counts of reaped children
# included), of the load generator (wrk or pgbench, counted by the shell
# that waited for it), and of the whole machine (/proc/stat), around one
# run.  On two shared cores this says which side a scenario's throughput
# is spent on, and what the module could reach at best (the CPU table).
#
# cpu_mark SHELLPID: "apache postgres busy idle switches waited": clock
# ticks, but for the machine's count of context switches; waited is
# SHELLPID's count of its reaped children (the load generator).
proc_family_ticks() {
  local parent=$1
  [ -n "$parent" ] && [ -r "/proc/$parent/stat" ] || { echo 0; return; }
  # Fields 14-17: utime, stime, cutime, cstime; the parent's cutime and
  # cstime hold any child that exited (and was reaped) meanwhile.
  # shellcheck disable=SC2046
  awk -v p="$parent" '{ s += $14 + $15; if ($1 == p) s += $16 + $17 }
    END { print s + 0 }' "/proc/$parent/stat" \
    $(ps --ppid "$parent" -o pid= | awk '{ print "/proc/" $1 "/stat" }') 2>/dev/null
}
cpu_mark() {
  local st
  read -ra st < "/proc/$1/stat"
  echo "$(proc_family_ticks "$(cat "$WEB/httpd.pid" 2>/dev/null)")" \
    "$(proc_family_ticks "$(head -n1 "$PG/data/postmaster.pid" 2>/dev/null)")" \
    "$(awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; i = $5 + $6 }
            /^ctxt / { c = $2 } END { print b, i, c }' /proc/stat)" \
    "$((st[15] + st[16]))"
}
# cpu_per_request MARK1 MARK2 REQUESTS:
# "apache,postgres,client,other,idle,switches" -- microseconds per
# request for each, other being the rest of the machine's busy time
# (kernel threads, anything else running); idle, the percentage of the
# machine's time left idle; switches, the machine's context switches per
# request.
cpu_per_request() {
  echo "$1 $2 $3" | awk -v hz="$(getconf CLK_TCK)" '{
    n = $13; u = (n > 0) ? 1e6 / hz / n : 0
    a = ($7 - $1) * u; p = ($8 - $2) * u; c = ($12 - $6) * u; b = ($9 - $3) * u
    i = $10 - $4; t = ($9 - $3) + i
    printf "%.1f,%.1f,%.1f,%.1f,%.0f,%.2f\n", a, p, c, b - a - p - c,
      t ? 100 * i / t : 0, (n > 0) ? ($11 - $5) / n : 0 }'
}

# co_correct CLIENTS TPS: the microsecond latencies on stdin, plus what wrk
# adds to its own before computing percentiles (wrk's stats_correct): with
# e the expected interval between one connection's requests (CLIENTS / TPS,
# wrk's runtime / requests per connection), for a latency v of at least 2e,
# v - e, v - 2e, ... while above e -- the requests a client sending at a
# steady rate would have had waiting.  The module's p99 is wrk's, so the
# database's is counted the same way for comparison.
co_correct() {
  awk -v c="$1" -v tps="$2" '
    BEGIN { e = (tps > 0) ? 1e6 * c / tps : 0 }
    { print $1; if (e > 0 && $1 >= 2 * e) for (m = $1 - e; m > e; m -= e) print m }'
}

# run_wrk SCENARIO CONNS: wrk's RESULT line, plus srv_p99_ms: the p99 of
# Apache's own time to serve (%D in the access log) over the run.  wrk
# corrects its latencies for coordinated omission as if requests had been
# sent at a constant rate, so a few slow requests count many times in its
# p99; the server's figure counts each request once, as pgbench's does.
run_wrk() {
  local s=$1 c=$2 out log=$WEB/logs/access.log from m1 m2 me=$BASHPID
  from=$(stat -c %s "$log")
  m1=$(cpu_mark "$me")
  out=$(wrk -t 2 -c "$c" -d "${SECS}s" --timeout 10s \
        -s "$TODO_HOME/src/bench/bench.lua" "$URL" -- "$s" "$DATA" 2>&1) \
    || { echo "wrk failed: $out" >&2; return 1; }
  m2=$(cpu_mark "$me")
  printf '== %s %s\n%s\n' "$s" "$c" "$out" >> "$TODO_HOME/wrk.log"
  out=$(echo "$out" | sed -n 's/^RESULT //p')
  # %D, the last field of an access log line, is in microseconds.
  echo "$out cpu=$(cpu_per_request "$m1" "$m2" "$(field "$out" requests)")" \
    "srv_p99_ms=$(tail -c +$((from + 1)) "$log" | awk '{ print $NF }' | p99_ms)"
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

{
  echo "mod_todo benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)"
  echo "httpd $(apache2 -v | sed -n 's/^Server version: Apache\///p') ($MPM MPM), PostgreSQL $(as_user "$(pg_bindir)/postgres" -V | awk '{print $3}'), wrk and pgbench on the same machine"
  echo "data: $USERS users x $TASKS_PER_USER tasks; $SECS s per run; ceiling: pgbench -M prepared -j 2 with the module's statements and session settings ($PGB_OPTIONS), at the same number of connections or at the module's own number of database connections ($(module_conns C)), whichever is faster, steady state (after the first $WARM s)"
  echo "module to PostgreSQL: unix socket; scheduler autogroups: $(autogroup_state); PostgreSQL settings beyond scripts/serve.sh's: ${PG_SET:-none}"
  echo
  echo "p50/p99: wrk, with its latency correction; srv p99: Apache's own time to serve, as measured;"
  echo "n2xx/err: non-2xx answers / socket errors (wrk.log has wrk's own report);"
  echo "pg p99 / pg raw: pgbench's p99 at the same number of connections (the database alone), with wrk's correction / as measured"
  echo
  printf '%-8s %5s %10s %7s %7s %7s %8s %11s %6s %7s %7s\n' scenario conns "req/s" \
    "p50 ms" "p99 ms" "srv p99" n2xx/err "pgbench/s" ratio "pg p99" "pg raw"
} | tee "$OUT"

say "warming up"
run_wrk mix 32 >/dev/null
# Every run starts from the same data: what create/mix added is removed
# and both tables vacuumed (dead rows and stale visibility would otherwise
# slow down whatever runs next).
reset_data() {
  pg_psql "$PG" -d todo -c "DELETE FROM tasks WHERE title LIKE 'bench task%'" \
    -c "VACUUM ANALYZE tasks, task_counts" >/dev/null
}

# features_conf off|on: for BENCH_MODE=ops and instr, the benchmark's
# configuration ($WEB/httpd.base.conf, copied before the first change) with
# a /rl location whose rate limit never triggers (TodoRateLimit 1000000 1
# 100000: 200 users cannot spend it), and in "on" a metrics location
# (counting is on only then).
features_conf() {
  cat "$WEB/httpd.base.conf"
  cat <<CONF
<Location /rl>
    SetHandler todo
    Require all granted
    TodoJWTAlgorithms HS256
    TodoJWTSecretFile "$TODO_HOME/jwt.secret"
    TodoRateLimit 1000000 1 100000
</Location>
CONF
  if [ "$1" = on ]; then
    printf '<Location /metrics>\n    SetHandler todo-metrics\n    Require all granted\n</Location>\n'
  fi
}

if [ "${BENCH_MODE:-}" = ops ]; then
  # shellcheck source=bench/ops.sh
  source "$TODO_HOME/src/bench/ops.sh"
  exit 0
fi
if [ "${BENCH_MODE:-}" = instr ]; then
  # shellcheck source=bench/instr.sh
  source "$TODO_HOME/src/bench/instr.sh"
  exit 0
fi

CPU_ROWS=()      # "scenario conns req/s module-cpu ceiling ceiling-cpu" per run
for s in $SCENARIOS; do
  for c in $CONNS; do
    reset_data
    r=$(run_wrk "$s" "$c")
    reset_data
    read -r p pgcpu pg99 pgraw <<<"$(ceiling "$s" "$c")"
    rps=$(field "$r" rps)
    CPU_ROWS+=("$s $c $rps $(field "$r" cpu) $p $pgcpu")
    printf '%-8s %5s %10.1f %7.2f %7.2f %7.2f %8s %11.1f %5.0f%% %7.2f %7.2f\n' "$s" "$c" "$rps" \
      "$(field "$r" p50_ms)" "$(field "$r" p99_ms)" "$(field "$r" srv_p99_ms)" \
      "$(field "$r" non2xx)/$(field "$r" errors)" "$p" \
      "$(echo "$rps $p" | awk '{ print ($2 > 0) ? 100 * $1 / $2 : 0 }')" \
      "$pg99" "$pgraw" | tee -a "$OUT"
  done
done

# ------------------------------------------------------------ HTTP floor
# The same Apache and module answering a route that needs neither a token
# nor the database (mod_todo's JSON 404): what the web server side alone
# can do on this machine.  Then /api/health: no token either, one round
# trip to the database with a prepared "SELECT 1" -- the least any API
# request costs.  Their CPU per request makes the bounds of the CPU table.
# floor_run PATH: "req/s cpu" of wrk at 32 connections on PATH.
floor_run() {
  local m1 m2 out me=$BASHPID
  m1=$(cpu_mark "$me")
  out=$(wrk -t 2 -c 32 -d "${SECS}s" "$URL$1" 2>&1)
  m2=$(cpu_mark "$me")
  echo "$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')" \
    "$(cpu_per_request "$m1" "$m2" \
        "$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in .*/\1/p')")"
}
say "HTTP floor"
read -r floor floor_cpu <<<"$(floor_run /api/no-such-route)"
read -r rtrip rtrip_cpu <<<"$(floor_run /api/health)"
{
  echo
  echo "HTTP floor: ${floor:-?} req/s at 32 connections (mod_todo's 404, no token, no database)"
  echo "round-trip floor: ${rtrip:-?} req/s at 32 connections (/api/health: no token, one prepared SELECT 1)"
} | tee -a "$OUT"

# ------------------------------------------------------------ CPU table
# Per run, CPU microseconds per request (see cpu_mark), and the best the
# module could do on this machine if each request cost Apache no more CPU
# than the floor's 404 (or than /api/health's single round trip to the
# database), and PostgreSQL no more than under pgbench (or in the module's
# run, if less): the machine's capacity divided by that plus the run's wrk
# and other time.  Every API request costs Apache at least the 404's work
# plus a round trip to the database, so the first is an upper bound for
# any module in this Apache, MPM and machine, and the second for any that
# talks to PostgreSQL the way mod_dbd does (one statement, waiting for it).
{
  echo
  echo "CPU per request, microseconds of user + system time ($(nproc) cores: $(nproc) s per s); cs: context switches per request, machine-wide"
  echo "best cases: requests costing Apache what the 404 (404 bound) or /api/health (rt bound) costs it and PostgreSQL the lesser of the module's and pgbench's runs, plus the module run's wrk and other time; req/s and % of the ceiling"
  printf '%-8s %5s %7s %8s %6s %6s %5s %5s | %8s %7s %5s %5s | %15s %15s\n' scenario conns apache \
    postgres wrk other idle cs postgres pgbench idle cs "404 bound" "rt bound"
  for f in "floor $floor_cpu" "health $rtrip_cpu"; do
    echo "$f" | awk '{ split($2, v, ",")
      printf "%-8s %5s %7.1f %8.1f %6.1f %6.1f %4d%% %5.2f |\n", $1, 32, v[1], v[2], v[3], v[4], v[5], v[6] }'
  done
  for row in "${CPU_ROWS[@]}"; do
    echo "$row $floor_cpu $rtrip_cpu" | awk -v ncpu="$(nproc)" '{
      split($4, m, ","); split($6, g, ",")
      split($7, f, ","); split($8, h, ",")
      pg = (g[2] > 0 && g[2] < m[2]) ? g[2] : m[2]
      rest = pg + m[3] + m[4]
      b1 = ncpu * 1e6 / (f[1] + rest); b2 = ncpu * 1e6 / (h[1] + rest)
      printf "%-8s %5s %7.1f %8.1f %6.1f %6.1f %4d%% %5.2f | %8.1f %7.1f %4d%% %5.2f | %8.0f %5.0f%% %8.0f %5.0f%%\n",
        $1, $2, m[1], m[2], m[3], m[4], m[5], m[6], g[2], g[3], g[5], g[6],
        b1, ($5 > 0) ? 100 * b1 / $5 : 0, b2, ($5 > 0) ? 100 * b2 / $5 : 0 }'
  done
} | tee -a "$OUT"

# ------------------------------------------------------------ memory
children() {
  ps --ppid "$(cat "$WEB/httpd.pid")" -o pid=,rss= | sort -n
}
say "memory: $MEM_REQUESTS requests of the mix"
reset_data
# Long enough for MEM_REQUESTS at the rate of a short mix run.
rps=$(field "$(SECS=5 run_wrk mix 32)" rps)
secs=$(echo "$rps $MEM_REQUESTS" | awk '{ s = $2 / $1; print (s < 5) ? 5 : int(s * 1.15 + 1) }')
before=$(children)
r=$(SECS=$secs run_wrk mix 32)
after=$(children)
{
  echo
  echo "memory: RSS of httpd children before/after $(field "$r" requests) requests of the mix (32 connections)"
  join <(echo "$before") <(echo "$after") | while read -r pid b a; do
    printf '  child %-7s %7d KiB -> %7d KiB  (%+d KiB)\n' "$pid" "$b" "$a" $((a - b))
  done
} | tee -a "$OUT"
say "results in $OUT"
