"""Storage benchmark: ingest and delivery on SQLite, PostgreSQL with 1 replica, and with 2.

    python bench/replicas.py [--events 4000] [--connections 32] [--runs 2]
                             [--pg postgresql://postgres@127.0.0.1:5432/test] [--json]

Per target and run, on a fresh database (a SQLite file in a temp dir, or a new schema):
1. ingest: start the replicas with the sink disabled, post ``--events`` distinct signed
   ``invoice_paid`` bodies over ``--connections`` keep-alive connections spread over the
   replicas (aiohttp, from this process), and time it: requests/s, p50/p99, server CPU;
2. delivery: restart the replicas with the sink on, pointed at ``bench/delivery_receiver.py``,
   and time the backlog's drain until every delivery has arrived: deliveries/s, server CPU.

The load generator and the receiver run on the same 2-core box as the replicas and the
database, so figures are for comparing the targets with each other, not absolute limits.
Loopback only; every loop is bounded. Progress goes to stderr; the report to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from benchlib import Receiver, cpu_seconds, free_port, latency_stats, log, stop, wait_ready

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = json.loads((ROOT / "service/eduzz/fixtures/myeduzz.invoice_paid.json").read_text())
PONTE = str(Path(sys.executable).parent / "ponte")
SECRET = "bench-secret"
CONFIG = """\
server: {{host: 127.0.0.1, port: {port}}}
storage: {{url: "{url}", lease: 10s}}
sources: {{eduzz: {{type: eduzz, secrets: ["{secret}"]}}}}
sinks:
  crm: {{type: webhook, url: "{hook}", concurrency: 32, enabled: {enabled}}}
routes: [{{name: tudo, events: ["*"], to: [crm]}}]
"""
TARGETS = (("sqlite", 1), ("postgres", 1), ("postgres", 2))


def bodies(n: int, run: str) -> list[tuple[bytes, str]]:
    """Distinct signed bodies (a new Eduzz id each)."""
    out = []
    for i in range(n):
        doc = dict(FIXTURE, id=f"{run}-{i}")
        body = json.dumps(doc).encode()
        out.append((body, hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()))
    return out


class Replicas:
    """``ponte serve`` processes on one database."""

    def __init__(self, run_dir: Path, url: str, count: int, hook: str, enabled: bool) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports = [free_port() for _ in range(count)]
        for n, port in enumerate(self.ports):
            cfg = run_dir / f"ponte-{n}.yaml"
            cfg.write_text(CONFIG.format(port=port, url=url, secret=SECRET, hook=hook,
                                         enabled=str(enabled).lower()))
            with (run_dir / f"ponte-{n}.log").open("ab") as err:
                self.procs.append(subprocess.Popen(
                    [PONTE, "serve", "--config", str(cfg), "--log-level", "warning"], cwd=run_dir,
                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True))
        for proc, port in zip(self.procs, self.ports, strict=True):
            wait_ready(proc, port, "/readyz")

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            stop(proc)


async def ingest(ports: list[int], work: list[tuple[bytes, str]], connections: int) -> dict[str, Any]:
    """Post every body once; connections spread round-robin over the replicas."""
    queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def client(n: int, http: aiohttp.ClientSession) -> None:
        url = f"http://127.0.0.1:{ports[n % len(ports)]}/webhooks/eduzz"
        while not queue.empty():
            body, sig = queue.get_nowait()
            t0 = time.perf_counter()
            async with http.post(url, data=body, headers={"x-signature": sig,
                                                          "content-type": "application/json"}) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            latencies.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as http:
        await asyncio.wait_for(asyncio.gather(*(client(n, http) for n in range(connections))), 600)
    elapsed = time.perf_counter() - started
    lat = latency_stats(latencies)
    return {"rps": round(len(work) / elapsed), "p50_ms": round(lat["p50"], 1),
            "p99_ms": round(lat["p99"], 1), "statuses": statuses}


def fresh_url(kind: str, run_dir: Path, pg: str) -> str:
    """A new SQLite file, or a new PostgreSQL schema (its URL sets the search_path)."""
    if kind == "sqlite":
        return f"sqlite:///{run_dir}/ponte.db"
    schema = f"ponte_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg else "?"
    return f"{pg}{sep}options=-csearch_path%3D{schema}"


def drop(url: str, pg: str) -> None:
    """Drop a benchmark schema again."""
    if url.startswith("postgresql"):
        schema = url.rsplit("%3D", 1)[1]
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def one_run(args: argparse.Namespace, kind: str, count: int, run_dir: Path, receiver: Receiver) -> dict[str, Any]:
    """Ingest then drain on a fresh database with ``count`` replicas."""
    url = fresh_url(kind, run_dir, args.pg)
    hook = receiver.url("/hook")
    try:
        work = bodies(args.events, run_dir.name)
        replicas = Replicas(run_dir, url, count, hook, enabled=False)
        cpu0 = replicas.cpu()
        res = asyncio.run(ingest(replicas.ports, work, args.connections))
        res["ingest_cpu_us_per_req"] = round((replicas.cpu() - cpu0) / args.events * 1e6)
        replicas.stop()
        receiver.reset()
        replicas = Replicas(run_dir, url, count, hook, enabled=True)
        started, cpu0 = time.perf_counter(), replicas.cpu()  # from the moment all are ready
        before = receiver.count().get("requests", 0)
        deadline = started + 600
        while receiver.count().get("requests", 0) < args.events and time.perf_counter() < deadline:
            time.sleep(0.05)
        drained = time.perf_counter() - started
        res["drain_per_s"] = round((args.events - before) / drained)
        res["drain_cpu_us_per_delivery"] = round((replicas.cpu() - cpu0) / (args.events - before) * 1e6)
        replicas.stop()
        return res
    finally:
        drop(url, args.pg)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=4000)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ponte-replicas-") as tmp:
        receiver = Receiver(Path(tmp))
        try:
            for kind, count in TARGETS:
                name = f"{kind} x{count}"
                runs = []
                for r in range(args.runs):
                    run_dir = Path(tmp) / f"{kind}-{count}-{r}"
                    run_dir.mkdir()
                    log(f"{name}: run {r + 1}/{args.runs}")
                    runs.append(one_run(args, kind, count, run_dir, receiver))
                report[name] = {k: statistics.median(x[k] for x in runs)
                                for k in runs[0] if k != "statuses"} | {"statuses": runs[-1]["statuses"]}
        finally:
            receiver.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{'target':<14} {'ingest/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'µs CPU/req':>10} "
              f"{'drain/s':>8} {'µs CPU/dlv':>10}")
        for name, r in report.items():
            print(f"{name:<14} {r['rps']:>9} {r['p50_ms']:>7} {r['p99_ms']:>7} "
                  f"{r['ingest_cpu_us_per_req']:>10} {r['drain_per_s']:>8} {r['drain_cpu_us_per_delivery']:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
