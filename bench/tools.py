#!/usr/bin/env python3
"""Helpers of bench/run.sh: seeding over the API, IPN signing, start-up timing, the summary.

Standard library only. Every loop is bounded by a count and every request by a timeout; all
traffic goes to loopback. Run by hand through bench/run.sh, never from CI or `cargo test`.
"""

import argparse
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime

TIMEOUT_S = 10


# --- HTTP over keep-alive connections, one per worker thread -------------------------------

_local = threading.local()


def _conn(base):
    u = urllib.parse.urlsplit(base)
    c = getattr(_local, "conn", None)
    if c is None:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT_S)
        _local.conn = c
    return c


def call(base, method, path, token=None, body=None, headers=None):
    """One request; returns (status, parsed JSON or None). Reconnects once on a dropped socket."""
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    data = None if body is None else json.dumps(body).encode()
    for tries in range(2):
        c = _conn(base)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            raw = r.read()
            try:
                return r.status, json.loads(raw) if raw else None
            except ValueError:
                return r.status, None
        except (http.client.HTTPException, OSError):
            c.close()
            _local.conn = None
            if tries == 1:
                raise
    raise RuntimeError("unreachable")


RETRIES = {"count": 0}
_retry_lock = threading.Lock()


def call_retrying(base, method, path, token, body, expect, key=None):
    """For seeding only: retries a 5xx (e.g. SQLite's "database is locked") up to 5 times, with
    a fresh Idempotency-Key each time; the retries are counted and reported."""
    for attempt in range(5):
        headers = {"Idempotency-Key": f"{key}-r{attempt}"} if key else None
        status, resp = call(base, method, path, token, body, headers)
        if status == expect or status < 500:
            return status, resp
        with _retry_lock:
            RETRIES["count"] += 1
        time.sleep(0.05 * (attempt + 1))
    return status, resp


def parallel(fn, items, workers):
    """Runs fn over items with `workers` threads; returns results in order; stops on the first error."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, items))


# --- seeding ---------------------------------------------------------------------------------

def notice_body(notice_no, amount):
    return {
        "notice_no": notice_no,
        "issued_at": "2026-01-05T09:00:00+07:00",
        "agency_code": "HN-VPDKDD",
        "dossier_code": f"000.00.12.H26-{notice_no}",
        "taxpayer": {"name": "Nguyễn Văn A", "tax_code": "8000000001", "id_no": "001080000001"},
        "treasury": {"shkb": "0012", "account": "7111", "tax_office_code": "1054634", "admin_unit_code": "00001"},
        "lines": [{"chapter": "757", "sub_item": "2801", "name": "Lệ phí trước bạ nhà đất",
                   "amount": amount, "due_date": "2099-12-31", "interest_sub_item": "4944"}],
    }


def payment_body(notice_id):
    return {
        "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001",
        "items": [{"notice_id": notice_id}], "payer": {"name": "Nguyễn Văn A"},
        "return_url": "https://dichvucong.example.gov.vn/hoso/1", "locale": "vi",
    }


def create_notices(base, token, prefix, count, workers):
    def one(i):
        status, body = call_retrying(base, "POST", "/v1/notices", token,
                                     notice_body(f"{prefix}-{i:07d}", 45000000 + i % 1000), 201)
        if status not in (200, 201):
            raise RuntimeError(f"POST /v1/notices -> {status}: {body}")
        return body["id"]
    return parallel(one, range(count), workers)


def cmd_seed_notices(a):
    t0 = time.monotonic()
    ids = create_notices(a.base, a.token, a.prefix, a.count, a.workers)
    with open(a.out, "w") as f:
        f.write("\n".join(ids) + "\n")
    print(f"seeded {len(ids)} notices in {time.monotonic() - t0:.1f} s; "
          f"{RETRIES['count']} requests retried after a 5xx", file=sys.stderr)


def pending_payments(base, token, want):
    """Up to `want` pending payments as (id, amount), paging the list API (bounded by `want`)."""
    out, cursor = [], None
    for _ in range(want // 500 + 2):
        path = "/v1/payments?status=pending&limit=500" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, body = call(base, "GET", path, token)
        if status != 200:
            raise RuntimeError(f"GET {path} -> {status}: {body}")
        out += [(p["id"], p["amount"]) for p in body["data"]]
        cursor = body.get("next_cursor")
        if not cursor or len(out) >= want:
            break
    return out[:want]


PHP_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-._")


def php_urlencode(s):
    """What Rust's form_urlencoded::byte_serialize (and PHP's urlencode) produce."""
    return "".join(chr(b) if b in PHP_SAFE else "+" if b == 0x20 else f"%{b:02X}" for b in s.encode())


def vnpay_ipn_query(txn_ref, amount_vnd, tmn_code, secret):
    params = {
        "vnp_Amount": str(amount_vnd * 100), "vnp_BankCode": "NCB", "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Thanh toan ho so", "vnp_PayDate": "20261120101500", "vnp_ResponseCode": "00",
        "vnp_TmnCode": tmn_code, "vnp_TransactionNo": "14226112", "vnp_TransactionStatus": "00",
        "vnp_TxnRef": txn_ref,
    }
    data = "&".join(f"{php_urlencode(k)}={php_urlencode(v)}" for k, v in sorted(params.items()))
    sig = hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()
    return f"{data}&vnp_SecureHash={sig}"


def cmd_seed_ipn(a):
    """Pending payments (reusing those the POST benchmark left, creating more if short), one
    VNPay attempt each, and one signed first-time IPN query per attempt, one per line."""
    t0 = time.monotonic()
    pays = pending_payments(a.base, a.token, a.count)
    short = a.count - len(pays)
    if short > 0:
        ids = create_notices(a.base, a.token, a.prefix, short, a.workers)

        def pay(i_nid):
            i, nid = i_nid
            status, body = call_retrying(a.base, "POST", "/v1/payments", a.token, payment_body(nid), 201,
                                         key=f"{a.prefix}-pay-{i}")
            if status != 201:
                raise RuntimeError(f"POST /v1/payments -> {status}: {body}")
            return body["id"], body["amount"]
        pays += parallel(pay, enumerate(ids), a.workers)

    def attempt(p):
        pid, amount = p
        status, body = call_retrying(a.base, "POST", f"/v1/payments/{pid}/attempts", a.token,
                                     {"gateway": "vnpay", "client_ip": "203.0.113.10"}, 201)
        if status != 201:
            raise RuntimeError(f"POST /v1/payments/{pid}/attempts -> {status}: {body}")
        return vnpay_ipn_query(body["reference"], amount, a.tmn_code, a.secret)
    queries = parallel(attempt, pays, a.workers)
    with open(a.out, "w") as f:
        f.write("\n".join(queries) + "\n")
    print(f"seeded {len(queries)} attempts + signed IPNs in {time.monotonic() - t0:.1f} s "
          f"({len(pays) - max(short, 0)} reused pending payments); "
          f"{RETRIES['count']} requests retried after a 5xx", file=sys.stderr)


def cmd_sign_range(a):
    """Signed first-time IPN queries for the rows pgb<from>..pgb<to> of ipn.pgbench.setup.sql
    (the Node peer's share), one per line."""
    queries = [vnpay_ipn_query(f"pgb{n}", a.amount, a.tmn_code, a.secret) for n in range(a.first, a.last + 1)]
    with open(a.out, "w") as f:
        f.write("\n".join(queries) + "\n")


def cmd_settled(a):
    """Keeps the IPN queries whose attempt is already settled (for the duplicate phase)."""
    q = "select txn_ref from attempt where status = 'succeeded'"
    if a.db_url.startswith("sqlite://"):
        import sqlite3
        c = sqlite3.connect(a.db_url[len("sqlite://"):], timeout=30)
        refs = {r[0] for r in c.execute(q)}
        c.close()
    else:
        out = subprocess.run(["psql", a.db_url, "-qtAX", "-c", q], check=True, capture_output=True,
                             text=True, timeout=120).stdout
        refs = set(out.split())
    kept = 0
    with open(a.input) as f, open(a.out, "w") as o:
        for line in f:
            params = urllib.parse.parse_qs(line.strip())
            if params.get("vnp_TxnRef", [""])[0] in refs:
                o.write(line)
                kept += 1
    print(f"{kept} settled IPN queries kept for the duplicate phase", file=sys.stderr)


def cmd_delivery_lag(a):
    """How long the events of a measured phase waited for their webhook's first try: from the
    event's commit time to the first try of each of its deliveries (the contract: within 1 s)."""
    # The first try is kept on the delivery (a row of its own before migration 0028).
    q = ("select d.created_at, coalesce(d.first_try_at, t.at) from delivery d left join delivery_try t "
         "on t.delivery_id = d.delivery_id and t.attempt_no = 1 "
         "where d.created_at >= '%s' and d.created_at < '%s' and coalesce(d.first_try_at, t.at) is not null"
         % (a.since, a.until))
    if a.db_url.startswith("sqlite://"):
        import sqlite3
        c = sqlite3.connect(a.db_url[len("sqlite://"):], timeout=30)
        rows = list(c.execute(q))
        c.close()
    else:
        out = subprocess.run(["psql", a.db_url, "-qtAX", "-F", " ", "-c", q], check=True, capture_output=True,
                             text=True, timeout=120).stdout
        rows = [line.split(" ") for line in out.splitlines() if line.strip()]
    lags = sorted((datetime.fromisoformat(t) - datetime.fromisoformat(e)).total_seconds() * 1000
                  for e, t in rows)
    result = {"deliveries": len(lags)}
    if lags:
        def pct(p):
            return round(lags[min(len(lags) - 1, int(p * len(lags)))], 1)
        result.update({"p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": round(lags[-1], 1),
                       "over_1s": sum(1 for x in lags if x > 1000)})
    with open(a.out, "w") as f:
        json.dump(result, f)
    print(f"webhook first try after the event: {result}", file=sys.stderr)


# --- start-up to ready -----------------------------------------------------------------------

def ready(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        c.request("GET", "/readyz")
        return c.getresponse().status == 200
    except OSError:
        return False
    finally:
        c.close()


def cmd_startup(a):
    """Spawns `landpay serve` `runs` times; time from spawn until /readyz answers 200."""
    results = []
    for i in range(a.runs):
        db = os.path.join(a.dir, f"startup-{i}.db" if a.fresh else "startup.db")
        env = dict(os.environ, LANDPAY__SERVER__PORT=str(a.port),
                   LANDPAY__SERVER__PUBLIC_BASE_URL=f"http://127.0.0.1:{a.port}",
                   LANDPAY__DATABASE__URL=f"sqlite://{db}", LANDPAY__LOG__FILTER="warn")
        t0 = time.monotonic()
        p = subprocess.Popen([a.bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ms = None
        try:
            deadline = t0 + 10
            while time.monotonic() < deadline and p.poll() is None:
                if ready(a.port):
                    ms = (time.monotonic() - t0) * 1000
                    break
                time.sleep(0.001)
        finally:
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        if ms is None:
            raise RuntimeError(f"landpay serve did not become ready within 10 s (run {i})")
        results.append(ms)
    out = {"runs_ms": [round(x, 1) for x in results], "median_ms": round(statistics.median(results), 1),
           "fresh_db": a.fresh}
    print(json.dumps(out))


def wal_per(before, after, n):
    """The WAL a phase wrote (two readings of run.sh's `wal_now`: "records fpi bytes"), per one
    of its `n` requests or transactions; empty without both readings."""
    if not (before and after and n):
        return {}
    w = [b - a for a, b in zip(map(int, before.split()), map(int, after.split()))]
    return {"wal_records_per_req": round(w[0] / n, 1), "wal_fpi_per_req": round(w[1] / n, 2),
            "wal_kb_per_req": round(w[2] / n / 1024, 2)}


# --- summary ---------------------------------------------------------------------------------

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt_rps(r):
    return f"{r['rps']:,.0f}" if r else "–"


def fmt_ms(us):
    return f"{us / 1000:.2f}" if us is not None else "–"


def cmd_summary(a):
    d = a.dir
    meta = load(os.path.join(d, "meta.json")) or {}
    backends = [b for b in ("postgres", "sqlite") if os.path.isdir(os.path.join(d, b))]
    lines = [f"### landpay benchmark — {meta.get('started', '?')}", "",
             f"{meta.get('cpus', '?')} CPUs, load generator on the same machine (wrk -t{meta.get('threads')} "
             f"-c{meta.get('conns')}, {meta.get('duration')} s after {meta.get('warmup')} s warm-up); "
             f"commit {meta.get('commit', '?')}{' (SMOKE RUN: figures not meaningful)' if meta.get('smoke') else ''}.",
             ""]
    rows = [("POST /v1/payments", "payments", "≥ 3,000 req/s, p99 ≤ 20 ms (PostgreSQL)"),
            ("GET /v1/payments/{id}", "get", "≥ 10,000 req/s, p99 ≤ 5 ms"),
            ("VNPay IPN, first-time transitions", "ipn", "≥ 75% of pgbench tx/s, p99 ≤ 15 ms (PostgreSQL)"),
            ("VNPay IPN, duplicates (answer 02)", "ipn_dup", "reported only"),
            ("Node peer IPN (express + pg + npm vnpay, plain shape)", "node_ipn", "yardstick: landpay ≥ 1.5×"),
            ("POST /v1/quotes", "quotes", "≥ 50% of bare actix-web plaintext; ≥ 50% of its JSON echo"),
            ("bare actix-web plaintext", "plaintext", "baseline"),
            ("bare actix-web JSON echo (the quote's body)", "json_echo", "baseline")]
    head = "| path | " + " | ".join(f"{b} req/s | {b} p50 ms | {b} p99 ms" for b in backends) + " | target |"
    lines += [head, "|---" * (1 + 3 * len(backends)) + "|---|"]
    notes = []
    for label, key, target in rows:
        cells = []
        for b in backends:
            r = load(os.path.join(d, b, f"{key}.json"))
            cells += [fmt_rps(r), fmt_ms(r and r.get("p50_us")), fmt_ms(r and r.get("p99_us"))]
            if r and r.get("bad"):
                notes.append(f"{b} {key}: {r['bad']} responses were not the expected ones — "
                             f"see {b}/{key}.wrk.txt; the figure is not valid")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    lines += ["", "| check | " + " | ".join(backends) + " | target |", "|---" * (2 + len(backends)) + "|"]

    def per(fn):
        return " | ".join(fn(b) for b in backends)

    def ipn_vs_pgbench(b):
        ipn, pgb = load(os.path.join(d, b, "ipn.json")), load(os.path.join(d, b, "pgbench.json"))
        if not (ipn and pgb and pgb.get("tps")):
            return "–"
        return f"{ipn['rps']:,.0f} / {pgb['tps']:,.0f} = **{100 * ipn['rps'] / pgb['tps']:.0f}%**"

    def ipn_vs_node(b):
        ipn, node = load(os.path.join(d, b, "ipn.json")), load(os.path.join(d, b, "node_ipn.json"))
        if not (ipn and node and node["rps"]):
            return "–"
        return f"{ipn['rps']:,.0f} / {node['rps']:,.0f} = **{ipn['rps'] / node['rps']:.2f}×**"

    def quotes_vs(base):
        def ratio(b):
            q, p = load(os.path.join(d, b, "quotes.json")), load(os.path.join(d, b, f"{base}.json"))
            if not (q and p and p["rps"]):
                return "–"
            return f"**{100 * q['rps'] / p['rps']:.0f}%**"
        return ratio

    def pgb(b):
        r = load(os.path.join(d, b, "pgbench.json"))
        return f"{r['tps']:,.0f} tx/s, avg {r['latency_avg_ms']} ms" if r else "–"

    def rss(b):
        r = load(os.path.join(d, b, "rss.json"))
        return f"peak {r['hwm_kb'] / 1024:.1f} MB (max sampled {r['max_rss_kb'] / 1024:.1f} MB)" if r else "–"

    lines.append(f"| IPN req/s ÷ pgbench tx/s (plain shape) | {per(ipn_vs_pgbench)} | ≥ 75% |")
    lines.append(f"| IPN req/s ÷ Node peer req/s | {per(ipn_vs_node)} | ≥ 1.5× |")
    lines.append(f"| pgbench, the IPN's plain shape, 16 clients | {per(pgb)} | yardstick |")

    def wal(b):
        cells = []
        for key, label in (("ipn", "landpay"), ("node_ipn", "Node peer"), ("pgbench", "pgbench")):
            r = load(os.path.join(d, b, f"{key}.json"))
            if r and r.get("wal_records_per_req") is not None:
                cells.append(f"{label} {r['wal_records_per_req']:.0f} records, {r['wal_kb_per_req']:.1f} kB "
                             f"({r['wal_fpi_per_req']:.2f} full pages)")
        return "; ".join(cells) or "–"

    lines.append(f"| WAL written per first-time IPN (whole server, background work included) | {per(wal)} | reported only |")
    lines.append(f"| quotes ÷ plaintext | {per(quotes_vs('plaintext'))} | ≥ 50% |")
    lines.append(f"| quotes ÷ JSON echo | {per(quotes_vs('json_echo'))} | ≥ 50% |")
    lines.append(f"| service RSS under load | {per(rss)} | ≤ 60 MB |")

    def lag(b):
        r = load(os.path.join(d, b, "delivery_lag.json"))
        if not (r and r.get("deliveries")):
            return "–"
        return (f"p50 {r['p50_ms']:,.0f} ms, p99 {r['p99_ms']:,.0f} ms, max {r['max_ms']:,.0f} ms; "
                f"{r['over_1s']:,} of {r['deliveries']:,} over 1 s")

    lines.append(f"| IPN phase: webhook first try after its event | {per(lag)} | within 1 s |")
    st = load(os.path.join(d, "startup.json"))
    st2 = load(os.path.join(d, "startup-existing.json"))
    if st:
        lines += ["", f"Start-up to ready on SQLite (spawn → `/readyz` 200): median **{st['median_ms']} ms** "
                      f"on a fresh database (runs: {', '.join(map(str, st['runs_ms']))})"
                      + (f", median {st2['median_ms']} ms on an existing one" if st2 else "")
                      + "; target ≤ 200 ms."]
    for b in backends:
        try:
            with open(os.path.join(d, b, "load.txt")) as f:
                loads = [l.strip() for l in f if l.strip() and "_warm:" not in l]
        except OSError:
            loads = []
        if loads:
            lines += ["", f"Load average (1, 5, 15 min) after each measured phase, {b}: " + "; ".join(loads) + "."]
    if notes:
        lines += ["", "Warnings:"] + [f"- {n}" for n in notes]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(text)
    print(text)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed-notices")
    s.add_argument("--base", required=True)
    s.add_argument("--token", required=True)
    s.add_argument("--prefix", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--workers", type=int, default=16)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_seed_notices)
    s = sub.add_parser("seed-ipn")
    s.add_argument("--base", required=True)
    s.add_argument("--token", required=True)
    s.add_argument("--prefix", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--workers", type=int, default=16)
    s.add_argument("--tmn-code", default="LANDPAY1")
    s.add_argument("--secret", default="dev-only-vnpay-secret")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_seed_ipn)
    s = sub.add_parser("sign-range")
    s.add_argument("--first", type=int, required=True)
    s.add_argument("--last", type=int, required=True)
    s.add_argument("--amount", type=int, required=True)
    s.add_argument("--tmn-code", default="LANDPAY1")
    s.add_argument("--secret", default="dev-only-vnpay-secret")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_sign_range)
    s = sub.add_parser("settled")
    s.add_argument("--db-url", required=True)
    s.add_argument("--input", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_settled)
    s = sub.add_parser("delivery-lag")
    s.add_argument("--db-url", required=True)
    s.add_argument("--since", required=True)
    s.add_argument("--until", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_delivery_lag)
    s = sub.add_parser("startup")
    s.add_argument("--bin", required=True)
    s.add_argument("--dir", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--runs", type=int, default=7)
    s.add_argument("--fresh", action="store_true", help="a new database file each run (migrations included)")
    s.set_defaults(fn=cmd_startup)
    s = sub.add_parser("summary")
    s.add_argument("--dir", required=True)
    s.set_defaults(fn=cmd_summary)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
