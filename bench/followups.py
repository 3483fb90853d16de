"""Follow-ups at scale: ingest and cancellation with 1,000,000 follow-ups scheduled vs none.

    python bench/followups.py [--fill 1000000] [--events 4000] [--connections 16] [--runs 2]
                              [--idle 10] [--tmpdir DIR] [--json] [--keep]

Follow-ups are rows (``deliveries`` with status ``scheduled``), not timers, so what a million
of them could cost is (a) each ingest's planning and commit, (b) each cancelling event's
lookup by correlation key, (c) the worker's promotion loop, and (d) memory. Per run and per
fill size (0, then ``--fill``), in a fresh SQLite database:

1. **fill**: ``--fill`` follow-up rows (an event each, due in 7-14 days, each with its own
   correlation key) written straight into the migrated database (sqlite3, one transaction
   per 50,000): the shape the store writes, without waiting for a million HTTP requests;
2. start ``ponte serve`` (one follow-up route: ``myeduzz.invoice_waiting_payment`` -> a
   webhook sink ``after: 1d`` ``unless`` ``myeduzz.invoice_paid`` with the same
   ``sale.order_id``, as in config/examples/recuperacao-pix.yaml); time to ``/readyz``;
3. **idle**: CPU and RSS of the process over ``--idle`` seconds with nothing to do (the
   worker's promotion rounds run against the scheduled rows all that time);
4. **ingest**: ``--events`` signed ``invoice_waiting_payment`` webhooks, ``--connections``
   at once, as fast as they are answered: each plans and commits one scheduled follow-up;
5. **cancel**: ``--events`` / 2 signed ``invoice_paid`` webhooks for half of those invoices:
   each cancels its follow-up in its own commit (checked: exactly that many ``cancelled``);
6. RSS and peak RSS (VmHWM), then SIGTERM; the query plans of the promotion and cancel
   lookups on the filled database.

Requests/s and latency percentiles per phase; the report compares fill 0 with ``--fill``.
Loopback only (127.0.0.1); every wait is bounded. Progress on stderr, report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (  # noqa: E402 - after the path insert
    HOST,
    ROOT,
    cpu_seconds,
    free_port,
    latency_stats,
    log,
    machine,
    memory,
    stop,
    system_busy,
    wait_ready,
)

SECRET = "bench-secret"
FIXTURES = ROOT / "service" / "eduzz" / "fixtures"
CHUNK = 50_000
CONFIG = """\
server: {{host: {host}, port: {port}}}
storage: {{url: "sqlite:///{db}"}}
sources:
  eduzz: {{type: eduzz, secrets: ["{secret}"]}}
sinks:
  lembrete: {{type: webhook, url: "http://127.0.0.1:9/never"}}
routes:
  - name: pix
    events: ["myeduzz.invoice_waiting_payment"]
    to:
      - sink: lembrete
        after: 1d
        unless: {{events: ["myeduzz.invoice_paid"], same: [sale.order_id]}}
"""


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def body(event: str, invoice: int, run: str) -> bytes:
    doc = json.loads((FIXTURES / f"{event}.json").read_text(encoding="utf-8"))
    doc["id"] = f"{run}-{event}-{invoice}"
    doc["data"]["id"] = str(90_000_000 + invoice)
    return json.dumps(doc, separators=(",", ":")).encode()


# --- the fill ---------------------------------------------------------------------------------


def migrate(db: Path) -> None:
    """Create and migrate the database as Ponte does (its own store opens it)."""
    from service.store.open import open_store

    async def run() -> None:
        store = open_store(f"sqlite:///{db}")
        await store.open()
        await store.close()

    asyncio.run(run())


def fill(db: Path, count: int) -> float:
    """``count`` scheduled follow-ups (and their events) written in chunks; seconds taken."""
    started, now = time.perf_counter(), time.time()
    # a small body: the rows' count is what is measured, not 4 GB of copies of one fixture
    raw = b'{"id":"fill","event":"myeduzz.invoice_waiting_payment","data":{"id":"1"}}'
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        for low in range(0, count, CHUNK):
            ids = range(low + 1, min(count, low + CHUNK) + 1)
            with conn:
                conn.executemany(
                    "INSERT INTO events (id, source, external_id, event, sent_date, received_at, status, "
                    "headers, schema_error, body) VALUES (?, 'eduzz', ?, 'myeduzz.invoice_waiting_payment', "
                    "NULL, ?, 'accepted', '{}', NULL, ?)",
                    ((i, f"fill-{i}", now - 3600, raw) for i in ids))
                conn.executemany(
                    "INSERT INTO deliveries (event_id, sink, route, status, attempt_count, tries, "
                    "next_attempt_at, created_at, updated_at, due_at, cancel_key) "
                    "VALUES (?, 'lembrete', 'pix', 'scheduled', 0, 0, ?, ?, ?, ?, ?)",
                    ((i, due, now - 3600, now - 3600, due, hashlib.sha256(b"%d" % i).hexdigest()[:32])
                     for i in ids for due in (now + 7 * 86400 + (i % 604800),)))
            if low and low % 200_000 == 0:
                log(f"  filled {low:,}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # Ponte starts on a settled file, as after a restart
    finally:
        conn.close()
    return time.perf_counter() - started


def plans(db: Path) -> dict[str, str]:
    """The query plans of the worker's promotion and a cancelling event's lookup."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        queries = {  # as service/store/sqlite/followups.py and store.py write them
            "promote_due": "SELECT id FROM deliveries INDEXED BY deliveries_scheduled WHERE status = 'scheduled' "
                           "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1000",
            "next_due": "SELECT MIN(next_attempt_at) AS due FROM deliveries INDEXED BY deliveries_scheduled "
                        "WHERE status = 'scheduled' AND ? IS NOT NULL",
            "cancel_by_key": "UPDATE deliveries SET status = 'cancelled' WHERE cancel_key = ? "
                             "AND status = 'scheduled'",
        }
        out = {}
        for name, sql in queries.items():
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("x",) if "cancel" in name else (time.time(),))
            # (EXPLAIN of an UPDATE on a read-only connection only plans it)
            out[name] = "; ".join(r[3] for r in rows)
        return out
    finally:
        conn.close()


# --- the load ---------------------------------------------------------------------------------


async def send_all(port: int, bodies: list[bytes], connections: int) -> dict[str, Any]:
    """POST every body, ``connections`` at a time; requests/s and latency (ms)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    latencies: list[float] = []
    failures = 0
    url = f"http://{HOST}:{port}/webhooks/eduzz"

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        while not queue.empty():
            raw = queue.get_nowait()
            headers = {"x-signature": sign(raw), "content-type": "application/json"}
            sent = time.perf_counter()
            async with http.post(url, data=raw, headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as r:
                await r.read()
                failures += r.status != 200
            latencies.append((time.perf_counter() - sent) * 1000)

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as http:
        await asyncio.wait_for(asyncio.gather(*(client(http) for _ in range(connections))), 600)
    took = time.perf_counter() - started
    return {"requests": len(bodies), "failures": failures, "seconds": round(took, 2),
            "per_second": round(len(bodies) / took, 1), "latency_ms": latency_stats(latencies)}


def count(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())
    finally:
        conn.close()


def one(args: argparse.Namespace, fill_count: int, run: int) -> dict[str, Any]:
    run_dir = Path(tempfile.mkdtemp(prefix=f"followups-{fill_count}-", dir=args.tmpdir))
    db = run_dir / "ponte.db"
    port = free_port()
    (run_dir / "ponte.yaml").write_text(CONFIG.format(host=HOST, port=port, db=db, secret=SECRET))
    result: dict[str, Any] = {"fill": fill_count, "run": run}
    migrate(db)
    if fill_count:
        log(f"fill {fill_count:,} follow-ups")
        result["fill_seconds"] = round(fill(db, fill_count), 1)
    result["db_mib"] = round(sum(p.stat().st_size for p in run_dir.glob("ponte.db*")) / 2**20, 1)
    exe = shutil.which("ponte", path=str(Path(sys.executable).parent)) or str(ROOT / ".venv/bin/ponte")
    cmd = [exe, "serve", "--config", str(run_dir / "ponte.yaml"), "--log-format", "json", "--log-level", "warning"]
    with (run_dir / "ponte.log").open("ab") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=run_dir, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        result["ready_seconds"] = round(wait_ready(proc, port, "/readyz", timeout=120, started=started), 2)
        cpu0, busy0 = cpu_seconds(proc.pid), system_busy()
        time.sleep(args.idle)
        busy = 100 * (system_busy() - busy0) / args.idle / (os.cpu_count() or 1)
        result["idle"] = {"cpu_percent": round(100 * (cpu_seconds(proc.pid) - cpu0) / args.idle, 2),
                          "machine_busy_percent": round(busy, 1),
                          "rss_mib": round(memory(proc.pid)["VmRSS"] / 1024, 1)}
        tag = f"r{run}f{fill_count}"
        waiting = [body("myeduzz.invoice_waiting_payment", i, tag) for i in range(args.events)]
        paid = [body("myeduzz.invoice_paid", i, tag) for i in range(0, args.events, 2)]
        log(f"  ingest {len(waiting)} follow-ups")
        cpu0 = cpu_seconds(proc.pid)
        result["ingest"] = asyncio.run(send_all(port, waiting, args.connections))
        result["ingest"]["cpu_ms_per_request"] = round(1000 * (cpu_seconds(proc.pid) - cpu0) / len(waiting), 2)
        log(f"  cancel {len(paid)} of them")
        cpu0 = cpu_seconds(proc.pid)
        result["cancel"] = asyncio.run(send_all(port, paid, args.connections))
        result["cancel"]["cpu_ms_per_request"] = round(1000 * (cpu_seconds(proc.pid) - cpu0) / len(paid), 2)
        mem = memory(proc.pid)
        result["after"] = {"rss_mib": round(mem["VmRSS"] / 1024, 1), "peak_rss_mib": round(mem["VmHWM"] / 1024, 1)}
        stop(proc)
        statuses = count(db)
        result["statuses"] = statuses
        want = {"scheduled": fill_count + args.events - len(paid), "cancelled": len(paid)}
        if statuses != want:
            raise RuntimeError(f"expected {want}, found {statuses}")
        if fill_count:
            result["query_plans"] = plans(db)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    return result


def report(results: list[dict[str, Any]]) -> str:
    lines = ["| scheduled before | phase | req/s | p50 ms | p99 ms | CPU ms/req | RSS MiB after |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        for phase in ("ingest", "cancel"):
            p = r[phase]
            lines.append(f"| {r['fill']:,} | {phase} (run {r['run']}) | {p['per_second']} | "
                         f"{p['latency_ms']['p50']:.1f} | {p['latency_ms']['p99']:.1f} | "
                         f"{p['cpu_ms_per_request']} | {r['after']['rss_mib']} |")
    lines.append("")
    lines.append("| scheduled | run | fill s | ready s | idle CPU % | machine busy % | idle RSS MiB | "
                 "peak RSS MiB | DB MiB |")
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        lines.append(f"| {r['fill']:,} | {r['run']} | {r.get('fill_seconds', 0)} | {r['ready_seconds']} | "
                     f"{r['idle']['cpu_percent']} | {r['idle']['machine_busy_percent']} | {r['idle']['rss_mib']} | "
                     f"{r['after']['peak_rss_mib']} | {r['db_mib']} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fill", type=int, default=1_000_000, help="follow-ups scheduled beforehand")
    parser.add_argument("--events", type=int, default=4000, help="follow-ups ingested per run (half cancelled)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measurement")
    parser.add_argument("--tmpdir", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not 0 <= args.fill <= 10_000_000 or not 2 <= args.events <= 1_000_000 or not 1 <= args.runs <= 10:
        parser.error("--fill 0..10,000,000, --events 2..1,000,000, --runs 1..10")
    results = []
    for run in range(1, args.runs + 1):
        for fill_count in (0, args.fill):
            log(f"run {run}: {fill_count:,} scheduled")
            results.append(one(args, fill_count, run))
    out = {"machine": machine(), "args": vars(args), "results": results}
    print(json.dumps(out, indent=2) if args.json else report(results) + "\n\n" + json.dumps(
        {"machine": out["machine"], "query_plans": next((r["query_plans"] for r in results if "query_plans" in r), {})},
        indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
