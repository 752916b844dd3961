#!/usr/bin/env bash
# landpay benchmarks — run by hand on a quiet machine, never in CI or `cargo test`.
# See bench/README.md. Loopback only; every phase is bounded in time, every loop in count.
#
#   bench/run.sh                 # full run: both backends, 15 s per phase after 3 s warm-up
#   bench/run.sh --smoke         # 2 s phases, small seeds: proves the scripts work, figures meaningless
#   BACKENDS=sqlite bench/run.sh # one backend (postgres | sqlite | "postgres sqlite")
#
# Results: bench/out/<UTC timestamp>/ (raw wrk/pgbench output, one JSON per phase, summary.md);
# the markdown summary is printed at the end.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1

if ((SMOKE)); then
  : "${DURATION:=2}" "${WARMUP:=1}" "${PAY_RATE_CAP:=1500}" "${IPN_RATE_CAP:=1500}" "${STARTUP_RUNS:=3}"
else
  : "${DURATION:=15}" "${WARMUP:=3}" "${PAY_RATE_CAP:=5000}" "${IPN_RATE_CAP:=5000}" "${STARTUP_RUNS:=7}"
fi
: "${BACKENDS:=postgres sqlite}"
: "${CONNS:=16}" "${THREADS:=2}" "${PG_CLIENTS:=16}" "${PG_JOBS:=2}"
: "${PG_URL:=postgres://postgres@127.0.0.1:5432}"   # the PostgreSQL server (trust auth); e.g. a cluster of its own on 5433
_pg_rest=${PG_URL#postgres://}; _pg_rest=${_pg_rest#postgresql://}; _pg_rest=${_pg_rest%%/*}
_pg_user=postgres; [[ $_pg_rest == *@* ]] && { _pg_user=${_pg_rest%%@*}; _pg_rest=${_pg_rest#*@}; }
_pg_port=5432; [[ $_pg_rest == *:* ]] && _pg_port=${_pg_rest##*:}
: "${PG_HOST:=${_pg_rest%%:*}}" "${PG_PORT:=$_pg_port}" "${PG_USER:=$_pg_user}"
: "${PGBENCH:=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)}"
: "${BENCH_PORT:=18080}" "${BARE_PORT:=18099}" "${STARTUP_PORT:=18081}" "${NODE_PORT:=18082}"
: "${DB_MAX_CONNECTIONS:=16}"
: "${DRAIN_MAX_S:=180}"
: "${WEBHOOK:=1}"          # 1 = one endpoint subscribed to payment.paid + notice.paid (the outbox rows)
: "${NO_BUILD:=0}"
: "${YARDSTICKS:=1}"       # 0 = skip the Node peer and pgbench (e.g. for a pool-size sweep)
: "${SETTLE:=1}"           # 1 = VACUUM (ANALYZE) and CHECKPOINT after each warm-up (see settle)
: "${PERF:=0}"             # 1 = perf record (cpu-clock, whole machine) during each measured phase
# PERF_KEEP=1 keeps each phase's perf.data beside its report, for `perf report -i`.
: "${PHASES:=payments ipn get quotes}"  # the service's phases to run (e.g. PHASES=ipn to try one change)
# pgbench's rows per second of phase: it runs the plain shape several times faster than an HTTP
# service, and a client that runs out of rows aborts.
: "${PG_RATE_CAP:=$((IPN_RATE_CAP * 4))}"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$BENCH/out/$STAMP"
mkdir -p "$OUT"
BIN=${BIN:-$ROOT/target/release/landpay}   # BIN=… benchmarks another build
BARE="$ROOT/target/release/examples/bare_plaintext"
export BENCH_LUA="$BENCH/lua"
TOTAL=$((WARMUP + DURATION))

trap 'echo "[$(date +%H:%M:%S)] ERROR: bench/run.sh failed at line $LINENO (see the logs in $OUT)" >&2' ERR
want() { [[ " $PHASES " == *" $1 "* ]]; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in wrk curl python3 psql createdb dropdb; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install wrk postgresql-client curl python3)"
done
[[ -x "$PGBENCH" ]] || [[ "$BACKENDS" != *postgres* ]] || die "pgbench not found (set PGBENCH=/usr/lib/postgresql/15/bin/pgbench)"

# --- processes we start, stopped by their pid on exit ----------------------------------------
PIDS=()
PG_DBS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  [[ -n "${NODE_DIR:-}" ]] && rm -rf "$NODE_DIR"
  for db in "${PG_DBS[@]}"; do
    [[ "${KEEP_DB:-0}" == 1 ]] || dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists --force "$db" 2>/dev/null || true
  done
}
trap cleanup EXIT

port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_http() { # url, max seconds
  local n=$(($2 * 20))
  for _ in $(seq 1 "$n"); do
    curl -fs -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.05
  done
  return 1
}

# --- build -----------------------------------------------------------------------------------
if [[ "$NO_BUILD" != 1 ]]; then
  log "building (release): landpay and examples/bare_plaintext"
  (cd "$ROOT" && cargo build --release --bin landpay --example bare_plaintext) >"$OUT/build.log" 2>&1 ||
    die "build failed, see $OUT/build.log"
fi
[[ -x "$BIN" && -x "$BARE" ]] || die "missing $BIN or $BARE"

cat >"$OUT/meta.json" <<EOF
{"started": "$STAMP", "commit": "$(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml Cargo.lock migrations || echo '+dirty')",
 "cpus": $(nproc), "threads": $THREADS, "conns": $CONNS, "duration": $DURATION, "warmup": $WARMUP,
 "smoke": $([[ $SMOKE == 1 ]] && echo true || echo false), "backends": "$BACKENDS",
 "load": "$(cut -d' ' -f1-3 /proc/loadavg)", "pgbench": "$("$PGBENCH" --version 2>/dev/null || true)", "wrk": "$(wrk -v 2>&1 | head -1 || true)"}
EOF

# --- the Node peer: installed into a temporary folder, removed at exit ------------------------
NODE_DIR=""
if [[ "$BACKENDS" == *postgres* && "$YARDSTICKS" == 1 ]] && command -v node >/dev/null && command -v npm >/dev/null; then
  NODE_DIR=$(mktemp -d -t landpay-node-peer.XXXXXX)
  cp "$BENCH/node-peer/package.json" "$BENCH/node-peer/server.js" "$NODE_DIR/"
  log "installing the Node peer (express, pg, vnpay) into $NODE_DIR"
  if ! (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error) >"$OUT/node_install.log" 2>&1; then
    log "npm install failed (see $OUT/node_install.log): the Node peer is skipped"
    rm -rf "$NODE_DIR"
    NODE_DIR=""
  fi
fi

# --- the bare actix-web endpoint (plaintext baseline, and the webhook receiver) ---------------
port_free "$BARE_PORT" || die "port $BARE_PORT in use (set BARE_PORT)"
"$BARE" "$BARE_PORT" >"$OUT/bare.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$BARE_PORT/" 10 || die "bare_plaintext did not start"

# --- start-up to ready on SQLite ---------------------------------------------------------------
port_free "$STARTUP_PORT" || die "port $STARTUP_PORT in use (set STARTUP_PORT)"
log "start-up to ready on SQLite, $STARTUP_RUNS runs on fresh databases, then on an existing one"
mkdir -p "$OUT/startup"
python3 "$BENCH/tools.py" startup --bin "$BIN" --dir "$OUT/startup" --port "$STARTUP_PORT" \
  --runs "$STARTUP_RUNS" --fresh >"$OUT/startup.json"
python3 "$BENCH/tools.py" startup --bin "$BIN" --dir "$OUT/startup" --port "$STARTUP_PORT" \
  --runs "$STARTUP_RUNS" >"$OUT/startup-existing.json"
rm -rf "$OUT/startup"

# --- helpers for one backend -------------------------------------------------------------------
SVC_PID=""
RSS_MAX_KB=0

# wrk_phase <dir> <name> <seconds> <url> <lua script> [lua args...]: runs wrk, samples the service's
# RSS meanwhile, keeps raw output in <name>.wrk.txt and the JSON result in <name>.json.
wrk_phase() {
  local dir=$1 name=$2 secs=$3 url=$4 script=$5
  shift 5
  local samples=$((secs * 5 + 10)) rss_file="$dir/$name.rss"
  pgss_reset
  (for _ in $(seq 1 "$samples"); do
     awk '/^VmRSS/ {print $2}' "/proc/$SVC_PID/status" 2>/dev/null || break
     sleep 0.2
   done) >"$rss_file" &
  local sampler=$!
  local perf_pid=""
  if [[ "$PERF" == 1 && "$name" != *_warm ]] && command -v perf >/dev/null; then
    perf record -q -e cpu-clock -F 499 -a -o "$dir/$name.perf.data" -- sleep "$secs" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  local cpu0 cpu1 wal0 wal1
  wal0=$(wal_now)
  cpu0=$(busy_ticks)
  wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 5s --latency -s "$BENCH/lua/$script" "$url" -- "$@" \
    >"$dir/$name.wrk.txt" 2>&1 || log "wrk exited non-zero for $name (see $dir/$name.wrk.txt)"
  cpu1=$(busy_ticks)
  wal1=$(wal_now)
  if [[ -n "$perf_pid" ]]; then
    wait "$perf_pid" 2>/dev/null || true
    # Where the machine's time went (by program), then the service's and the database's hottest symbols.
    { perf report -q -i "$dir/$name.perf.data" --stdio --sort comm --percent-limit 1 2>/dev/null
      echo
      perf report -q -i "$dir/$name.perf.data" --stdio --pid "$SVC_PID" \
        --sort dso,symbol --percent-limit 0.7 2>/dev/null | head -60
      echo
      perf report -q -i "$dir/$name.perf.data" --stdio --comm postgres \
        --sort dso,symbol --percent-limit 0.7 2>/dev/null | head -60
    } >"$dir/$name.perf.txt" || true
    [[ "${PERF_KEEP:-0}" == 1 ]] || rm -f "$dir/$name.perf.data"
  fi
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  grep '^BENCH ' "$dir/$name.wrk.txt" | tail -1 | cut -d' ' -f2- >"$dir/$name.json" || true
  echo "$name: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$dir/load.txt"
  pgss_dump "$dir" "$name"
  [[ -s "$dir/$name.json" ]] || { log "no result for $name"; rm -f "$dir/$name.json"; return 0; }
  local m
  m=$(sort -n "$rss_file" | tail -1)
  ((${m:-0} > RSS_MAX_KB)) && RSS_MAX_KB=$m
  python3 - "$dir/$name.json" "$name" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" "$secs" "$wal0" "$wal1" "$BENCH" <<'PY' >&2
import json, sys
sys.path.insert(0, sys.argv[8])
from tools import wal_per
path, name, ticks, hz, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
r = json.load(open(path))
n = max(r.get("requests") or r["rps"] * secs, 1)
# The whole machine's busy CPU time per request (service, database and load generator): steadier
# than req/s on a machine whose disk and neighbours vary, for comparing two builds.
r["cpu_ms_per_req"] = round(1000 * ticks / hz / n, 4)
r.update(wal_per(sys.argv[6], sys.argv[7], n))
wal = f"  wal {r['wal_records_per_req']:.0f} rec {r['wal_kb_per_req']:.1f} kB/req" if "wal_kb_per_req" in r else ""
json.dump(r, open(path, "w"))
print(f"    {name:<12} {r['rps']:>10,.0f} req/s  p50 {r['p50_us']/1000:7.2f} ms  p99 {r['p99_us']/1000:7.2f} ms"
      f"  cpu {r['cpu_ms_per_req']:.3f} ms/req{wal}  non-2xx {r['non2xx']}  bad {r['bad']}  wrapped {r['wrapped']}")
PY
}

# The server's WAL written so far (records, full-page images, bytes; `pg_stat_wal`, the whole
# server: a phase's figure includes the background work it causes, such as webhook deliveries),
# empty when the backend is not PostgreSQL or the server has no `pg_stat_wal`.
WAL_URL=""
wal_now() {
  [[ -n "$WAL_URL" ]] || return 0
  psql "$WAL_URL" -qtAX -F ' ' -c "select wal_records, wal_fpi, wal_bytes::bigint from pg_stat_wal" 2>/dev/null || true
}

# Busy CPU ticks of the whole machine so far (user, nice, system, irq, softirq).
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }

# Splits a list file: the first <share> of lines to <warm>, the rest to <measure>.
split_list() { # file warm measure
  local total warm_n
  total=$(grep -c . "$1")
  warm_n=$((total * WARMUP / TOTAL))
  ((warm_n < THREADS)) && warm_n=$THREADS
  head -n "$warm_n" "$1" >"$2"
  tail -n +"$((warm_n + 1))" "$1" >"$3"
}

# pg_stat_statements, when the server preloads it: reset before each phase, the top statements by
# total time written to <phase>.pgss.txt after it (calls, mean and total ms, rows; plans and
# planning ms, zero unless the server sets pg_stat_statements.track_planning).
PGSS_URL=""
pgss_reset() { [[ -n "$PGSS_URL" ]] && psql "$PGSS_URL" -qtAX -c "select pg_stat_statements_reset()" >/dev/null 2>&1 || true; }
pgss_dump() { # dir name
  [[ -n "$PGSS_URL" ]] || return 0
  psql "$PGSS_URL" -qX -P pager=off -c "select calls, round(mean_exec_time::numeric, 3) as mean_ms,
      round(total_exec_time::numeric, 1) as total_ms, rows, plans, round(total_plan_time::numeric, 1) as plan_ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as query
    from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
    order by total_exec_time desc limit 25" >"$1/$2.pgss.txt" 2>&1 || true
}

sql() { # backend db-url sql → first column of first row
  if [[ $1 == postgres ]]; then
    psql "$2" -qtAX -c "$3"
  else
    python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=30); r=c.execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "${2#sqlite://}" "$3"
  fi
}

wait_drained() { # backend db-url dir
  local t0=$SECONDS pending
  for _ in $(seq 1 $((DRAIN_MAX_S * 2))); do
    pending=$(sql "$1" "$2" "select count(*) from delivery where status = 'pending'")
    [[ "$pending" == 0 ]] && break
    sleep 0.5
  done
  echo "{\"pending_left\": $pending, \"seconds\": $((SECONDS - t0))}" >"$3/drain.json"
  log "    webhook outbox drained in $((SECONDS - t0)) s (pending left: $pending)"
}

# settle <backend> <db-url>: the database's own upkeep is done between a phase's warm-up and its
# measured run, so that one phase (or its seeding) does not leave its clean-up (autovacuum of the
# rows it rewrote, pruning and hint bits on the next read, a checkpoint) to be charged to the next
# one, and so that the measured run starts with statistics of tables that hold the phase's kind
# of rows, as a running service's do: a phase is often the first to write a table (the payments
# phase the idempotency keys, the IPN phase the webhook deliveries), and a prepared statement or
# foreign-key check planned while its table was empty keeps that plan (a sequential scan) until
# the next ANALYZE, which autovacuum takes at most once a minute. The yardsticks get the same.
# In production that upkeep runs all the time, in proportion to the writes; a phase that only
# reads has none of its own.
settle() {
  [[ "$SETTLE" == 1 ]] || return 0
  local t0=$SECONDS
  if [[ $1 == postgres ]]; then
    psql "$2" -qtAX -c "vacuum (analyze)" -c "checkpoint" >/dev/null
  else
    sql sqlite "$2" "pragma wal_checkpoint(truncate)" >/dev/null
  fi
  log "    settled (vacuum, analyze, checkpoint) in $((SECONDS - t0)) s"
}

run_backend() {
  local backend=$1 dir="$OUT/$1" db_url dbname=""
  mkdir -p "$dir"
  RSS_MAX_KB=0
  if [[ $backend == postgres ]]; then
    dbname="landpay_bench_$(echo "$STAMP" | tr 'A-Z' 'a-z')"
    createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$dbname"
    PG_DBS+=("$dbname")
    db_url="postgres://$PG_USER@$PG_HOST:$PG_PORT/$dbname"
    PGSS_URL=""
    WAL_URL=$db_url
    if psql "$db_url" -qtAX -c "create extension if not exists pg_stat_statements; select 1 from pg_stat_statements limit 1" >/dev/null 2>&1; then
      PGSS_URL=$db_url
    else
      log "  (pg_stat_statements not preloaded by the server: no statement profiles)"
    fi
  else
    db_url="sqlite://$dir/landpay.db"
  fi
  log "== $backend: $db_url"
  export LANDPAY__SERVER__PORT=$BENCH_PORT LANDPAY__SERVER__HOST=127.0.0.1
  export LANDPAY__SERVER__PUBLIC_BASE_URL="http://127.0.0.1:$BENCH_PORT"
  export LANDPAY__DATABASE__URL=$db_url LANDPAY__DATABASE__MAX_CONNECTIONS=$DB_MAX_CONNECTIONS
  export LANDPAY__LOG__FILTER=warn LANDPAY__PAYMENTS__ATTEMPT_TTL=6h LANDPAY__PAYMENTS__JANITOR_INTERVAL=1h
  # One token drives the whole load: its per-subject limit is lifted (the limiter still runs).
  export LANDPAY__RATE_LIMITS__API_PER_SUBJECT=100000000/min
  "$BIN" migrate >"$dir/migrate.log" 2>&1 || die "landpay migrate failed ($dir/migrate.log)"
  port_free "$BENCH_PORT" || die "port $BENCH_PORT in use (set BENCH_PORT)"
  "$BIN" serve >"$dir/service.log" 2>&1 &
  SVC_PID=$!
  PIDS+=("$SVC_PID")
  wait_http "http://127.0.0.1:$BENCH_PORT/readyz" 30 || die "service not ready ($dir/service.log)"
  local base="http://127.0.0.1:$BENCH_PORT" token
  token=$("$BIN" token --sub bench --role portal --role admin --ttl 2h 2>/dev/null)
  export BENCH_TOKEN=$token
  local endpoint_id=""
  if [[ "$WEBHOOK" == 1 ]]; then
    endpoint_id=$(curl -fsS --max-time 5 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"url\": \"http://127.0.0.1:$BARE_PORT/hook\", \"events\": [\"payment.paid\", \"notice.paid\"]}" \
      "$base/v1/webhook-endpoints" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  fi

  if want payments; then
    # POST /v1/payments: one fresh notice and one unique key per request.
    local pay_n=$((TOTAL * PAY_RATE_CAP))
    log "  seeding $pay_n notices"
    python3 "$BENCH/tools.py" seed-notices --base "$base" --token "$token" --prefix "BN-$STAMP" \
      --count "$pay_n" --out "$dir/notices.txt" 2>>"$dir/seed.log"
    log "    $(tail -n 1 "$dir/seed.log")"
    split_list "$dir/notices.txt" "$dir/notices.warm.txt" "$dir/notices.measure.txt"
    log "  POST /v1/payments"
    wrk_phase "$dir" payments_warm "$WARMUP" "$base" payments.lua "$dir/notices.warm.txt" "$THREADS" "bw-$STAMP"
    settle "$backend" "$db_url"
    wrk_phase "$dir" payments "$DURATION" "$base" payments.lua "$dir/notices.measure.txt" "$THREADS" "bm-$STAMP"
    wait_drained "$backend" "$db_url" "$dir"
  fi

  if want ipn; then
    # VNPay IPN: one pre-signed first-time IPN per attempt.
    local ipn_n=$((TOTAL * IPN_RATE_CAP))
    log "  seeding $ipn_n attempts and signed IPNs"
    python3 "$BENCH/tools.py" seed-ipn --base "$base" --token "$token" --prefix "BI-$STAMP" \
      --count "$ipn_n" --out "$dir/ipn.txt" 2>>"$dir/seed.log"
    log "    $(tail -n 1 "$dir/seed.log")"
    split_list "$dir/ipn.txt" "$dir/ipn.warm.txt" "$dir/ipn.measure.txt"
    log "  VNPay IPN"
    wrk_phase "$dir" ipn_warm "$WARMUP" "$base" ipn.lua "$dir/ipn.warm.txt" "$THREADS"
    settle "$backend" "$db_url"
    local ipn_since ipn_until
    ipn_since=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
    wrk_phase "$dir" ipn "$DURATION" "$base" ipn.lua "$dir/ipn.measure.txt" "$THREADS"
    ipn_until=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
    # Duplicates: the queries of the measured phase whose attempt is now settled, again (the
    # service answers 02).
    python3 "$BENCH/tools.py" settled --db-url "$db_url" --input "$dir/ipn.measure.txt" \
      --out "$dir/ipn.dup.txt" 2>>"$dir/seed.log"
    if (($(grep -c . "$dir/ipn.dup.txt") >= THREADS)); then
      settle "$backend" "$db_url"
      wrk_phase "$dir" ipn_dup "$DURATION" "$base" ipn.lua "$dir/ipn.dup.txt" "$THREADS" dup
    fi
    wait_drained "$backend" "$db_url" "$dir"
    # How long the measured phase's events waited for their webhook's first try.
    python3 "$BENCH/tools.py" delivery-lag --db-url "$db_url" --since "$ipn_since" --until "$ipn_until" \
      --out "$dir/delivery_lag.json" 2>>"$dir/seed.log" || log "    delivery lag not measured"
  fi

  if want get; then
    # GET /v1/payments/{id}
    if [[ $backend == postgres ]]; then
      psql "$db_url" -qtAX -c "select payment_id from payment order by random() limit 100000" >"$dir/payment_ids.txt"
    else
      python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print("\n".join(r[0] for r in c.execute("select payment_id from payment order by random() limit 100000")))' \
        "$dir/landpay.db" >"$dir/payment_ids.txt"
    fi
    log "  GET /v1/payments/{id} ($(wc -l <"$dir/payment_ids.txt") ids)"
    wrk_phase "$dir" get_warm "$WARMUP" "$base" get_payment.lua "$dir/payment_ids.txt" "$THREADS"
    settle "$backend" "$db_url"
    wrk_phase "$dir" get "$DURATION" "$base" get_payment.lua "$dir/payment_ids.txt" "$THREADS"
  fi

  if want quotes; then
    # POST /v1/quotes against the bare actix-web plaintext endpoint and JSON echo (the same
    # request body parsed and written back), back to back.
    log "  POST /v1/quotes vs bare actix-web plaintext and JSON echo"
    wrk_phase "$dir" quotes_warm "$WARMUP" "$base" quotes.lua "$BENCH/quote-transfer.json"
    settle "$backend" "$db_url"
    wrk_phase "$dir" quotes "$DURATION" "$base" quotes.lua "$BENCH/quote-transfer.json"
    wrk_phase "$dir" plaintext_warm "$WARMUP" "http://127.0.0.1:$BARE_PORT/" plain.lua
    wrk_phase "$dir" plaintext "$DURATION" "http://127.0.0.1:$BARE_PORT/" plain.lua
    wrk_phase "$dir" json_echo_warm "$WARMUP" "http://127.0.0.1:$BARE_PORT/" quotes.lua "$BENCH/quote-transfer.json" /json-echo
    wrk_phase "$dir" json_echo "$DURATION" "http://127.0.0.1:$BARE_PORT/" quotes.lua "$BENCH/quote-transfer.json" /json-echo
  fi

  local hwm
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$SVC_PID/status")
  # What the resident memory is at the end: the heap and stacks (anon), the binary's and
  # libraries' pages (file), shared mappings such as SQLite's WAL index (shmem).
  grep -E '^(VmRSS|RssAnon|RssFile|RssShmem)' "/proc/$SVC_PID/status" >"$dir/rss_parts.txt" 2>/dev/null || true
  echo "{\"hwm_kb\": $hwm, \"max_rss_kb\": $RSS_MAX_KB}" >"$dir/rss.json"
  log "  service RSS: peak (VmHWM) $((hwm / 1024)) MB, max sampled $((RSS_MAX_KB / 1024)) MB"

  # Stop the service (SIGTERM, bounded wait) before pgbench, so PostgreSQL has the machine to itself.
  kill "$SVC_PID" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SVC_PID" 2>/dev/null || true
  wait "$SVC_PID" 2>/dev/null || true

  if [[ $backend == postgres && "$YARDSTICKS" == 1 ]] && want ipn; then  # its rows copy the IPN phase's
    run_pgbench "$dir" "$db_url"
  fi
  PGSS_URL=""
  WAL_URL=""
}

# The yardsticks on the same database, after the service stopped: the Node peer (express + pg +
# npm vnpay) over HTTP with wrk, then pgbench, both doing the plain shape of the IPN's durable
# work (bench/ipn.pgbench.sql) on fresh rows of their own.
run_pgbench() {
  local dir=$1 db_url=$2
  local per_warm=$(((WARMUP * PG_RATE_CAP + PG_CLIENTS - 1) / PG_CLIENTS + 50))
  local per_measure=$(((DURATION * PG_RATE_CAP + PG_CLIENTS - 1) / PG_CLIENTS + 50))
  local per=$((per_warm + per_measure)) rows=$((PG_CLIENTS * (per_warm + per_measure)))
  local node_rows=$(((WARMUP + DURATION) * IPN_RATE_CAP + 100))
  log "  yardsticks: creating $((rows + node_rows)) payments/attempts like the service's"
  psql "$db_url" -qX -v lo=1 -v hi="$((rows + node_rows))" -f "$BENCH/ipn.pgbench.setup.sql" >"$dir/pgbench_setup.log" 2>&1 ||
    die "pgbench setup failed ($dir/pgbench_setup.log)"
  run_node_peer "$dir" "$db_url" "$((rows + 1))" "$((rows + node_rows))"
  local payload_len paid_len
  payload_len=$(psql "$db_url" -qtAX -c "select coalesce(round(avg(length(payload))), 400) from callback where verdict = 'valid'")
  paid_len=$(psql "$db_url" -qtAX -c "select coalesce(round(avg(length(body))), 1500) from event where type = 'payment.paid'")
  local common=(-n -M prepared -c "$PG_CLIENTS" -j "$PG_JOBS" -f "$BENCH/ipn.pgbench.sql"
    -D k=0 -D per="$per" -D payload_len="$payload_len" -D paid_body_len="$paid_len"
    -D now=2026-11-20T03:15:00.123456Z -D money_at=2026-11-20T03:15:00.000000Z)
  # The warm-up runs with -r: its per-statement latencies are in pgbench_warm.txt.
  log "  pgbench: the IPN's plain shape, $PG_CLIENTS clients, -j $PG_JOBS"
  "$PGBENCH" "${common[@]}" -r -T "$WARMUP" -D k0=0 "$db_url" >"$dir/pgbench_warm.txt" 2>&1 ||
    log "pgbench warm-up exited non-zero (see $dir/pgbench_warm.txt)"
  settle postgres "$db_url"
  local wal0 wal1
  wal0=$(wal_now)
  "$PGBENCH" "${common[@]}" -T "$DURATION" -D k0="$per_warm" "$db_url" >"$dir/pgbench.txt" 2>&1 ||
    log "pgbench exited non-zero (see $dir/pgbench.txt)"
  wal1=$(wal_now)
  python3 - "$dir/pgbench.txt" "$dir/pgbench.json" "$rows" "$wal0" "$wal1" "$BENCH" <<'PY' >&2
import json, re, sys
sys.path.insert(0, sys.argv[6])
from tools import wal_per
t = open(sys.argv[1]).read()
def num(pat):
    m = re.search(pat, t)
    return float(m.group(1)) if m else None
tps = num(r"tps = ([\d.]+) \(without initial connection time\)")
r = {"tps": tps, "latency_avg_ms": num(r"latency average = ([\d.]+) ms"),
     "transactions": num(r"number of transactions actually processed: (\d+)"),
     "failed": num(r"number of failed transactions: (\d+)"),
     "aborted": "aborted" in t, "rows": int(sys.argv[3])}
r.update(wal_per(sys.argv[4], sys.argv[5], r["transactions"]))
wal = f"  wal {r['wal_records_per_req']:.0f} rec {r['wal_kb_per_req']:.1f} kB/tx" if "wal_kb_per_req" in r else ""
if tps is None:
    print("    pgbench: no tps in output", file=sys.stderr)
else:
    json.dump(r, open(sys.argv[2], "w"))
    print(f"    pgbench      {tps:>10,.0f} tx/s   avg {r['latency_avg_ms']} ms  failed {r['failed']}{wal}"
          f"{'  CLIENTS ABORTED (rows ran out?)' if r['aborted'] else ''}")
PY
  local done_n
  done_n=$(psql "$db_url" -qtAX -c "select count(*) from attempt where attempt_id like 'att_pgb%' and status = 'succeeded'")
  log "  the yardsticks transitioned $done_n attempts"
}

# The Node peer, installed into a temporary folder (never in the repository, never in CI) and
# driven by wrk with signed IPNs for rows <first>..<last>.
run_node_peer() {
  local dir=$1 db_url=$2 first=$3 last=$4
  if [[ -z "$NODE_DIR" ]]; then
    log "  Node peer skipped (node or npm missing, or the install failed)"
    return 0
  fi
  port_free "$NODE_PORT" || die "port $NODE_PORT in use (set NODE_PORT)"
  PORT=$NODE_PORT DATABASE_URL="$db_url" VNPAY_TMN_CODE=LANDPAY1 VNPAY_SECRET=dev-only-vnpay-secret POOL="$DB_MAX_CONNECTIONS" \
    node "$NODE_DIR/server.js" >"$dir/node_peer.log" 2>&1 &
  local node_pid=$!
  PIDS+=("$node_pid")
  for _ in $(seq 1 100); do port_free "$NODE_PORT" || break; sleep 0.1; done
  local amount
  amount=$(psql "$db_url" -qtAX -c "select amount from attempt where attempt_id = 'att_pgb1'")
  python3 "$BENCH/tools.py" sign-range --first "$first" --last "$last" --amount "$amount" --out "$dir/node.all.txt"
  split_list "$dir/node.all.txt" "$dir/node.warm.txt" "$dir/node.measure.txt"
  log "  Node peer (express + pg + npm vnpay), the IPN's plain shape"
  local svc=$SVC_PID
  SVC_PID=$node_pid
  wrk_phase "$dir" node_ipn_warm "$WARMUP" "http://127.0.0.1:$NODE_PORT" ipn.lua "$dir/node.warm.txt" "$THREADS"
  settle postgres "$db_url"
  wrk_phase "$dir" node_ipn "$DURATION" "http://127.0.0.1:$NODE_PORT" ipn.lua "$dir/node.measure.txt" "$THREADS"
  SVC_PID=$svc
  kill "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
}

for b in $BACKENDS; do
  run_backend "$b"
done

python3 "$BENCH/tools.py" summary --dir "$OUT"
log "results in $OUT"
