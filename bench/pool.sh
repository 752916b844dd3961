#!/usr/bin/env bash
# The service's pool size measured: one short PostgreSQL run of bench/run.sh per size (no
# yardsticks), then the payments, IPN and read figures of each side by side.
#
#   PG_URL=postgres://postgres@127.0.0.1:5433 bench/pool.sh          # sizes 8 16 32
#   SIZES="8 16" DURATION=10 bench/pool.sh
set -Eeuo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
: "${SIZES:=8 16 32}" "${DURATION:=8}" "${WARMUP:=2}" "${PAY_RATE_CAP:=4000}" "${IPN_RATE_CAP:=2500}"
: "${PHASES:=payments ipn get}"
export DURATION WARMUP PAY_RATE_CAP IPN_RATE_CAP PHASES
runs=()
for n in $SIZES; do
  before=$(ls -1 "$BENCH/out" 2>/dev/null | sort | tail -1)
  BACKENDS=postgres YARDSTICKS=0 DB_MAX_CONNECTIONS=$n NO_BUILD=${NO_BUILD:-1} "$BENCH/run.sh" >/dev/null
  after=$(ls -1 "$BENCH/out" | sort | tail -1)
  [[ "$after" != "$before" ]] || { echo "no new run for pool $n" >&2; exit 1; }
  runs+=("$n=$BENCH/out/$after")
done
python3 - "${runs[@]}" <<'PY'
import json, os, sys
print("| pool | POST /v1/payments req/s (p99 ms) | IPN req/s (p99 ms) | GET req/s (p99 ms) | load after |")
print("|---|---|---|---|---|")
for arg in sys.argv[1:]:
    n, d = arg.split("=", 1)
    cells = []
    for phase in ("payments", "ipn", "get"):
        try:
            r = json.load(open(os.path.join(d, "postgres", f"{phase}.json")))
            cells.append(f"{r['rps']:,.0f} ({r['p99_us'] / 1000:.1f})")
        except (OSError, ValueError):
            cells.append("–")
    try:
        load = open(os.path.join(d, "postgres", "load.txt")).read().strip().splitlines()[-1].split(": ", 1)[1]
    except (OSError, IndexError):
        load = "?"
    print(f"| {n} | " + " | ".join(cells) + f" | {load} |")
PY
