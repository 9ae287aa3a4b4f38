# shellcheck shell=bash
# The cost of the operations features, sourced by bench/run.sh when
# BENCH_MODE=ops, once its data, tokens and Apache are up (it uses run.sh's
# variables and functions: WEB, URL, DATA, OUT, say, field, reset_data).
#
# 1. Metrics on vs off: the same Apache, its configuration switched by a
#    graceful restart between a variant without and one with a
#    "SetHandler todo-metrics" location (counting is on only then).
# 2. A rate limit that never triggers vs none: two locations of the same
#    configuration, /api and /rl (TodoRateLimit 1000000 1 100000: 200
#    users cannot spend it), no restart between.
#    Each pair runs BENCH_OPS_ROUNDS rounds of every scenario, alternating
#    which variant goes first (this is a shared 2-core machine: drift
#    and noise hit both alike), BENCH_OPS_SECS seconds per run at
#    BENCH_OPS_CONNS connections; medians, the cost in %, and the spread
#    ((max - min) / median) of each variant's rounds are printed.
# 0. The core calls a request makes for each feature, timed alone in CPU
#    nanoseconds (bench/opscost.c), by one and by two processes at once:
#    on a machine shared with other work, a bound steadier than any
#    difference of two HTTP runs.
# 3. Latency at a fixed load: wrk's connections paced (bench/paced.lua:
#    each waits after each answer) to about half the peak throughput of
#    the mix measured in 1., once with none of the features and once with
#    both; p50 and p99 from wrk and from Apache's own %D.
OPS_SECS=${BENCH_OPS_SECS:-10}
OPS_ROUNDS=${BENCH_OPS_ROUNDS:-3}
OPS_SCENARIOS=${BENCH_OPS_SCENARIOS:-get mix}
OPS_CONNS=${BENCH_OPS_CONNS:-32}
PACED_CONNS=64
OPS_LOG=$TODO_HOME/ops-runs.txt

as_user cp "$WEB/httpd.conf" "$WEB/httpd.base.conf"
: | as_user tee "$OPS_LOG" >/dev/null

# ops_conf off|on: features_conf (bench/run.sh), applied with a graceful
# restart.
ops_conf() {
  features_conf "$1" | as_user tee "$WEB/httpd.conf" >/dev/null
  as_user /usr/sbin/apache2 -f "$WEB/httpd.conf" -k graceful
  local want=404 i
  [ "$1" = on ] && want=200
  for i in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")" = "$want" ] && break
    sleep 0.1
  done
  # The old children finish and the new ones take over.
  sleep 2
  wrk -t 2 -c "$OPS_CONNS" -d 2s -s "$TODO_HOME/src/bench/bench.lua" "$URL" \
    -- get "$DATA" /api >/dev/null 2>&1
}

# ops_wrk SCENARIO CONNS PREFIX SECS [PACE_MS]: "rps p50 p99 srv_p50
# srv_p99 non2xx errors apache_us" (ms; srv: Apache's %D; apache_us:
# Apache's CPU time per request, user + system, in microseconds -- on a
# machine shared with other work the steadier measure of a cost).
ops_wrk() {
  local s=$1 c=$2 pfx=$3 secs=$4 pace=${5:-} log=$WEB/logs/access.log
  local from out r script=bench.lua extra=() m1 m2 me=$BASHPID
  [ -n "$pace" ] && { script=paced.lua; extra=("$pace"); }
  from=$(stat -c %s "$log")
  m1=$(cpu_mark "$me")
  out=$(wrk -t 2 -c "$c" -d "${secs}s" --timeout 10s \
        -s "$TODO_HOME/src/bench/$script" "$URL" -- "$s" "$DATA" "$pfx" \
        "${extra[@]}" 2>&1) || { echo "wrk failed: $out" >&2; return 1; }
  m2=$(cpu_mark "$me")
  r=$(echo "$out" | sed -n 's/^RESULT //p')
  echo "$(field "$r" rps) $(field "$r" p50_ms) $(field "$r" p99_ms)" \
    "$(tail -c +$((from + 1)) "$log" | awk '{ print $NF }' | sort -n | awk '
        { v[NR] = $1 } END { a = int(NR * 0.5); b = int(NR * 0.99)
          if (a < 1) a = 1; if (b < 1) b = 1
          printf "%.3f %.3f", v[a] / 1000, v[b] / 1000 }')" \
    "$(field "$r" non2xx) $(field "$r" errors)" \
    "$(cpu_per_request "$m1" "$m2" "$(field "$r" requests)" | cut -d, -f1)"
}

# ops_summary PAIR A B: per scenario, medians of A and B, B's cost in %
# (throughput down, p99 up), and the spread of each over its rounds.
ops_summary() {
  local pair=$1 a=$2 b=$3
  awk -v pair="$pair" -v A="$a" -v B="$b" -v scen="$OPS_SCENARIOS" '
    function med(arr, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
        if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
      return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2 }
    function spread(arr, n, m,   i, lo, hi) {
      lo = hi = arr[1]
      for (i = 2; i <= n; i++) { if (arr[i] < lo) lo = arr[i]; if (arr[i] > hi) hi = arr[i] }
      return m ? 100 * (hi - lo) / m : 0 }
    $1 == pair { k = $2 SUBSEP $3; n[k]++; rps[k, n[k]] = $5; p99[k, n[k]] = $7; sp99[k, n[k]] = $9; cpu[k, n[k]] = $12 }
    END {
      ns = split(scen, S, " ")
      for (i = 1; i <= ns; i++) {
        s = S[i]; ka = A SUBSEP s; kb = B SUBSEP s
        for (j = 1; j <= n[ka]; j++) { ra[j] = rps[ka, j]; pa[j] = p99[ka, j]; qa[j] = sp99[ka, j]; ca[j] = cpu[ka, j] }
        for (j = 1; j <= n[kb]; j++) { rb[j] = rps[kb, j]; pb[j] = p99[kb, j]; qb[j] = sp99[kb, j]; cb[j] = cpu[kb, j] }
        mra = med(ra, n[ka]); mrb = med(rb, n[kb]); mpa = med(pa, n[ka]); mpb = med(pb, n[kb])
        mqa = med(qa, n[ka]); mqb = med(qb, n[kb]); mca = med(ca, n[ka]); mcb = med(cb, n[kb])
        printf "%-9s %-4s %8.1f %8.1f %+6.1f%% | %6.2f %6.2f %+6.1f%% | %6.2f %6.2f | %6.1f %6.1f %+6.1f%% | spread rps %4.1f%%/%4.1f%%, cpu %4.1f%%/%4.1f%%\n",
          pair, s, mra, mrb, (mra > 0) ? 100 * (mra - mrb) / mra : 0,
          mpa, mpb, (mpa > 0) ? 100 * (mpb - mpa) / mpa : 0, mqa, mqb,
          mca, mcb, (mca > 0) ? 100 * (mcb - mca) / mca : 0,
          spread(ra, n[ka], mra), spread(rb, n[kb], mrb),
          spread(ca, n[ka], mca), spread(cb, n[kb], mcb)
      }
    }' "$OPS_LOG"
}

OPSCOST=$TODO_HOME/opscost
as_user gcc -O2 -o "$OPSCOST" "$TODO_HOME/src/bench/opscost.c" \
  "$TODO_HOME/src/mod_todo/todo_metrics.c" "$TODO_HOME/src/mod_todo/todo_ratelimit.c" \
  "$TODO_HOME/src/mod_todo/todo_route.c" "$TODO_HOME/src/mod_todo/todo_buf.c" \
  -I"$TODO_HOME/src/mod_todo" $(apr-1-config --cppflags --includes) \
  $(apr-1-config --link-ld --libs)
{
  echo
  echo "core calls per request, CPU ns per call (feature, processes at once, ns):"
  as_user "$OPSCOST" | sed 's/^/  /'
  echo
  echo "operations features: $OPS_ROUNDS alternating rounds of $OPS_SECS s per variant and scenario, $OPS_CONNS connections"
} | tee -a "$OUT"

say "metrics off vs on"
for round in $(seq "$OPS_ROUNDS"); do
  order="off on"
  [ $((round % 2)) -eq 0 ] && order="on off"
  for v in $order; do
    ops_conf "$v"
    for s in $OPS_SCENARIOS; do
      reset_data
      echo "metrics $v $s $round $(ops_wrk "$s" "$OPS_CONNS" /api "$OPS_SECS")" \
        | as_user tee -a "$OPS_LOG"
    done
  done
done

say "rate limit: none (/api) vs one that never triggers (/rl)"
ops_conf off
for round in $(seq "$OPS_ROUNDS"); do
  order="api rl"
  [ $((round % 2)) -eq 0 ] && order="rl api"
  for v in $order; do
    for s in $OPS_SCENARIOS; do
      reset_data
      echo "ratelimit $v $s $round $(ops_wrk "$s" "$OPS_CONNS" "/$v" "$OPS_SECS")" \
        | as_user tee -a "$OPS_LOG"
    done
  done
done

{
  echo
  echo "run lines: pair variant scenario round rps p50 p99 srv_p50 srv_p99 non2xx errors apache_us_per_request"
  cat "$OPS_LOG"
  echo
  echo "medians: pair scenario  A-rps  B-rps  B's throughput cost | A-p99 B-p99 B's p99 cost (wrk, ms) | A-srv-p99 B-srv-p99 (Apache %D, ms) | Apache CPU us/request A, B, B's cost | spread of A's / B's rounds"
  ops_summary metrics off on
  ops_summary ratelimit api rl
} | tee -a "$OUT"

# ------------------------------------------------ latency at a fixed load
peak=$(awk '$1 == "metrics" && $2 == "off" && $3 == "mix" { print $5 }' "$OPS_LOG" \
  | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
# Each of PACED_CONNS connections at half the peak over all of them, less
# the time an answer takes at low load (about a millisecond).
pace=$(echo "$peak" | awk -v c="$PACED_CONNS" '{ p = 1000 * c / (0.5 * $1) - 1; print (p < 1) ? 1 : int(p + 0.5) }')
say "latency at a fixed load: $PACED_CONNS connections, ${pace} ms apart each (peak of the mix: $peak req/s)"
{
  echo
  echo "latency at a fixed load: the mix, $PACED_CONNS connections each waiting ${pace} ms after every answer (aim: half the peak of $peak req/s), $((OPS_SECS + 5)) s"
  printf '%-28s %9s %7s %7s %9s %9s %8s\n' variant "req/s" "p50 ms" "p99 ms" "srv p50" "srv p99" n2xx/err
} | tee -a "$OUT"
for v in off on; do
  ops_conf "$v"
  reset_data
  pfx=/api
  label="neither feature"
  [ "$v" = on ] && { pfx=/rl; label="metrics and rate limit on"; }
  read -r rps p50 p99 sp50 sp99 n2 er _ <<<"$(ops_wrk mix "$PACED_CONNS" "$pfx" $((OPS_SECS + 5)) "$pace")"
  printf '%-28s %9.1f %7.2f %7.2f %9.2f %9.2f %8s\n' "$label" "$rps" "$p50" "$p99" "$sp50" "$sp99" "$n2/$er" \
    | tee -a "$OUT"
done
say "results in $OUT"
