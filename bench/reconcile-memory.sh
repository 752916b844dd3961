#!/usr/bin/env bash
# Peak memory of one reconciliation run over a 500,000-row settlement file — run by hand, never
# in CI or `cargo test`. See bench/README.md ("Reconciliation memory").
#
#   bench/reconcile-memory.sh                  # 500,000 rows, SQLite, target/release/landpay
#   ROWS=100000 BIN=target/debug/landpay bench/reconcile-memory.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/landpay_rec bench/reconcile-memory.sh
#
# Prints the service's resident memory before the upload (VmRSS), its peak during the run
# (VmHWM), the increase, the size of the first read of the run and its item count.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${ROWS:=500000}"
: "${PORT:=18090}"
: "${BIN:=$ROOT/target/release/landpay}"
WORK=$(mktemp -d)
: "${DATABASE_URL:=sqlite://$WORK/landpay.db}"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$BIN" ]] || { echo "no binary at $BIN (cargo build --release, or set BIN)" >&2; exit 1; }

export LANDPAY_ENV=local
export LANDPAY__DATABASE__URL="$DATABASE_URL"
export LANDPAY__SERVER__PORT="$PORT"
export LANDPAY__SERVER__PUBLIC_BASE_URL="http://127.0.0.1:$PORT"
export LANDPAY__LOG__FILTER=warn

# Rows of references the ledger does not know (the worst case: every row is a finding), with a
# formula-looking cell now and then.
python3 - "$ROWS" > "$WORK/statement.csv" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
out.write("gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n")
for i in range(n):
    ref = "@SUM(1+1)" if i % 100000 == 7 else f"REF{i:010d}"
    out.write(f"{14000000 + i},{ref},{100000 + i},success,2026-11-20T{10 + i % 12:02d}:{i % 60:02d}:00+07:00,NCB,1100\n")
PY
SIZE=$(stat -c %s "$WORK/statement.csv")

"$BIN" migrate >/dev/null 2>&1
"$BIN" serve >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
TOKEN=$("$BIN" token --sub bench-finance --role finance --ttl 1h 2>/dev/null)
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }

# Warm up the routes that the run uses, then take the baseline.
curl -fs -o /dev/null -H "authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/v1/reports/collections?from=2026-11-20&to=2026-11-20"
BEFORE=$(rss VmRSS)
START=$(date +%s.%N)
curl -fs -o "$WORK/run.json" -H "authorization: Bearer $TOKEN" -H "content-type: text/csv" \
  --data-binary "@$WORK/statement.csv" \
  "http://127.0.0.1:$PORT/v1/reconciliations?gateway=vnpay&statement_date=2026-11-20"
END=$(date +%s.%N)
PEAK=$(rss VmHWM)
AFTER=$(rss VmRSS)
ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/run.json")
curl -fs -o "$WORK/read.json" -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/v1/reconciliations/$ID"
CSV_BYTES=$(curl -fs -H "authorization: Bearer $TOKEN" -H "accept: text/csv" \
  "http://127.0.0.1:$PORT/v1/reconciliations/$ID" | wc -c)
PEAK_AFTER_CSV=$(rss VmHWM)
python3 - "$WORK/run.json" "$WORK/read.json" <<PY
import json, os, sys
run = json.load(open(sys.argv[1])); read = json.load(open(sys.argv[2]))
kb = lambda v: int(v) / 1024
print("| measure | value |")
print("|---|---|")
print(f"| rows / file size | {$ROWS:,} / {$SIZE / 1e6:.1f} MB |")
print(f"| run time | {float('$END') - float('$START'):.1f} s |")
print(f"| RSS before | {kb($BEFORE):.1f} MB |")
print(f"| peak RSS during the run (VmHWM) | {kb($PEAK):.1f} MB |")
print(f"| peak increase | {kb($PEAK) - kb($BEFORE):.1f} MB |")
print(f"| RSS after | {kb($AFTER):.1f} MB |")
print(f"| peak after streaming the CSV ({$CSV_BYTES / 1e6:.1f} MB) | {kb($PEAK_AFTER_CSV):.1f} MB |")
print(f"| POST answer | {os.path.getsize(sys.argv[1]) / 1e3:.0f} kB, {len(run['items'])} items, next_cursor {'set' if run['next_cursor'] else 'null'} |")
print(f"| first read | {os.path.getsize(sys.argv[2]) / 1e3:.0f} kB, {len(read['items'])} items |")
print(f"| summary | {json.dumps(read['summary'])} |")
PY
