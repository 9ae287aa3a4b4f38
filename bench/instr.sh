# shellcheck shell=bash
# What the operations features cost in instructions, sourced by
# bench/run.sh when BENCH_MODE=instr, once its data, tokens and Apache are
# up (it uses run.sh's variables and functions: WEB, URL, DATA, OUT, say,
# field, reset_data, as_user).
#
# The throughput A/B of BENCH_MODE=ops (bench/ops.sh) cannot show a cost
# of 1-3 % on a machine whose runs of one variant differ by 6-12 %.  The
# instructions Apache executes per request can: they do not depend on
# what else the machine runs.  For each variant the benchmark's Apache is
# stopped and started again as one process (apache2 -X: one child, its
# threads) under valgrind's callgrind; after a warm-up its counters are
# zeroed, wrk sends the scenario for INSTR_SECS seconds, the counters are
# dumped, and their total divided by the requests in the access log
# meanwhile.  Everything the process does counts: the MPM's listener and
# workers, mod_dbd and libpq, OpenSSL for the tokens, the module.
# PostgreSQL runs apart and does the same work for every variant.
#
# Pairs: metrics off vs on (a "SetHandler todo-metrics" location, the
# configuration ops.sh switches to), and no rate limit (/api) vs one that
# never triggers (/rl, TodoRateLimit 1000000 1 100000), in one
# configuration.  Scenarios: INSTR_SCENARIOS (default "get mix").
# Callgrind runs the process about fifty times slower; the requests per
# second printed are callgrind's, not Apache's.
INSTR_SECS=${BENCH_INSTR_SECS:-20}
INSTR_SCENARIOS=${BENCH_INSTR_SCENARIOS:-get mix}
INSTR_CONNS=4
INSTR_DIR=$TODO_HOME/instr

ensure_packages valgrind
rm -rf "$INSTR_DIR"
as_user mkdir -p "$INSTR_DIR"
as_user cp "$WEB/httpd.conf" "$WEB/httpd.base.conf"
as_user /usr/sbin/apache2 -f "$WEB/httpd.conf" -k stop
for _ in $(seq 100); do [ -f "$WEB/httpd.pid" ] || break; sleep 0.1; done

VG_PID=
# Stop Apache (the process callgrind runs, TERM as apache2 -k stop would
# send) and wait until it is gone: its last dump, its pid file.
instr_stop() {
  [ -n "$VG_PID" ] || return 0
  local pid
  pid=$(pgrep -u "$TODO_USER" -f 'valgrind.*cg\.' | head -n1)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 600); do
    { [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; } && [ ! -f "$WEB/httpd.pid" ] && break
    sleep 0.1
  done
  wait "$VG_PID" 2>/dev/null || true
  VG_PID=
}
trap 'instr_stop; cleanup' EXIT

# instr_start off|on: Apache as one process under callgrind.
instr_start() {
  features_conf "$1" | as_user tee "$WEB/httpd.instr.conf" >/dev/null
  (cd "$INSTR_DIR" && exec runuser -u "$TODO_USER" -- env HOME="$TODO_HOME" \
    valgrind --tool=callgrind --callgrind-out-file="$INSTR_DIR/cg.$1.%p" \
    --dump-instr=no --collect-jumps=no \
    /usr/sbin/apache2 -X -f "$WEB/httpd.instr.conf" \
    > "$INSTR_DIR/valgrind.$1.log" 2>&1) &
  VG_PID=$!
  local i
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/health")" = 200 ] && return 0
    sleep 0.2
  done
  echo "Apache did not start under callgrind: $INSTR_DIR/valgrind.$1.log" >&2
  return 1
}

# The process callgrind runs (valgrind's own pid: runuser's child).
instr_pid() {
  pgrep -u "$TODO_USER" -f "valgrind.*cg\.$1\." | head -n1
}

# instr_measure VARIANT SCENARIO PREFIX: "requests instructions ir_per_request"
instr_measure() {
  local v=$1 s=$2 pfx=$3 pid log=$WEB/logs/access.log from n out total
  pid=$(instr_pid "$v")
  wrk -t 1 -c "$INSTR_CONNS" -d 3s -s "$TODO_HOME/src/bench/bench.lua" "$URL" \
    -- "$s" "$DATA" "$pfx" >/dev/null 2>&1
  as_user callgrind_control --zero "$pid" >/dev/null 2>&1
  from=$(stat -c %s "$log")
  out=$(wrk -t 1 -c "$INSTR_CONNS" -d "${INSTR_SECS}s" --timeout 30s \
        -s "$TODO_HOME/src/bench/bench.lua" "$URL" -- "$s" "$DATA" "$pfx" 2>&1)
  as_user callgrind_control --dump "$pid" >/dev/null 2>&1
  n=$(tail -c +$((from + 1)) "$log" | wc -l)
  # The newest dump of this process: its "totals:" (or "summary:") line.
  total=$(ls -t "$INSTR_DIR"/cg."$v"."$pid".* 2>/dev/null | head -n1 \
          | xargs -r awk '/^(totals|summary):/ { print $2; exit }')
  echo "$n ${total:-0} $(echo "$n ${total:-0}" | awk '{ printf "%.0f", ($1 > 0) ? $2 / $1 : 0 }')" \
       "$(field "$(echo "$out" | sed -n 's/^RESULT //p')" non2xx)"
}

{
  echo
  echo "instructions per request (callgrind, Apache as one process, $INSTR_CONNS connections, $INSTR_SECS s a run):"
  printf '%-22s %-5s %9s %15s %12s %6s\n' variant scen requests instructions "Ir/request" non2xx
} | tee -a "$OUT"
declare -A IR
for v in off on; do
  say "callgrind: metrics $v"
  instr_start "$v"
  for s in $INSTR_SCENARIOS; do
    for pfx in /api /rl; do
      [ "$v" = on ] && [ "$pfx" = /rl ] && continue
      reset_data
      read -r n total per n2 <<<"$(instr_measure "$v" "$s" "$pfx")"
      label="metrics $v"
      [ "$pfx" = /rl ] && label="rate limit (metrics off)"
      IR["$v $s $pfx"]=$per
      printf '%-22s %-5s %9s %15s %12s %6s\n' "$label" "$s" "$n" "$total" "$per" "$n2" | tee -a "$OUT"
    done
  done
  instr_stop
done
{
  echo
  for s in $INSTR_SCENARIOS; do
    echo "$s: metrics cost $(echo "${IR["off $s /api"]} ${IR["on $s /api"]}" | awk '{ printf "%+.2f %%", 100 * ($2 - $1) / $1 }') of Apache's instructions per request;" \
      "rate limit cost $(echo "${IR["off $s /api"]} ${IR["off $s /rl"]}" | awk '{ printf "%+.2f %%", 100 * ($2 - $1) / $1 }')"
  done
} | tee -a "$OUT"
say "callgrind output in $INSTR_DIR (callgrind_annotate shows where)"
