"""Peer benchmark: Prometheus Alertmanager forwarding alerts to a webhook, beside Ponte, same run.

    python bench/alertmanager.py [--alerts 10000] [--batch 100] [--rate 500] [--duration 20]
                                 [--warmup 2] [--runs 3] [--modes per-alert,grouped]
                                 [--group-interval 1s] [--payload-bytes 3000] [--no-ponte]
                                 [--json] [--keep]

Needs Debian's ``prometheus-alertmanager`` (``apt-get install -y prometheus-alertmanager``).
Every run starts each contender fresh (a new temp storage dir / database) against the same
local receiver (``bench/delivery_receiver.py``), on 127.0.0.1 only, with Alertmanager's
gossip listener off (``--cluster.listen-address=``).

Alertmanager modes (the config is printed in the report):

- ``per-alert``: ``group_by: ['...']`` (every label set is its own group, so each alert is
  sent on its own, like Ponte sends each event), ``group_wait: 0s``;
- ``grouped``: ``group_by: [alertname]`` over 100 alert names, ``group_wait: 0s``,
  ``group_interval: --group-interval``: Alertmanager's normal batching. A group's
  notification carries *all* its firing alerts, so the same alert arrives again in later
  notifications: throughput counts *distinct* alerts at their *first* arrival.

Phases per contender:

1. **bulk**: ``--alerts`` alerts POSTed to ``/api/v2/alerts`` in batches of ``--batch``
   (4 connections); forwarded alerts/s = alerts / (last first-arrival - first POST).
   Ponte's counterpart ingests the same number of events one per request (Eduzz's way;
   32 connections) with the sink enabled: the same clock, first POST to last arrival.
   Ponte's backlog drain (``bench/delivery.py``'s figure) is measured too.
2. **steady**: on a *fresh* Alertmanager (the bulk alerts would still be firing and, in
   grouped mode, be re-sent in every notification of their group), one alert per request
   at ``--rate``/s for ``--warmup`` + ``--duration`` s, each carrying its send time;
   latency = first arrival - send, after the warm-up.

Memory is VmHWM (peak RSS) of the server process after each phase. Progress to stderr,
the report to stdout (JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import delivery
from benchlib import (
    HOST,
    ROOT,
    Foreign,
    Receiver,
    cpu_seconds,
    fmt_spread,
    free_port,
    fs_type,
    latency_stats,
    log,
    machine,
    memory,
    per_second_windows,
    spread,
    stop,
    wait_ready,
)

AM_BINARY = "prometheus-alertmanager"
GROUPS = 100

AM_CONFIG = """\
# Written by bench/alertmanager.py ({mode}).
route:
  receiver: bench
  group_by: {group_by}
  group_wait: 0s
  group_interval: {group_interval}
  repeat_interval: 24h
receivers:
  - name: bench
    webhook_configs:
      - url: {url}
        send_resolved: false
        max_alerts: 0
"""


def am_version(exe: str) -> str:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else "?"


class Alertmanager:
    def __init__(self, exe: str, run_dir: Path, mode: str, receiver_url: str, group_interval: str) -> None:
        self.run_dir = run_dir
        self.port = free_port()
        self.cfg = run_dir / "alertmanager.yml"
        group_by = "['...']" if mode == "per-alert" else "[alertname]"
        self.config_text = AM_CONFIG.format(mode=mode, group_by=group_by, url=receiver_url,
                                            group_interval=group_interval)
        self.cfg.write_text(self.config_text)
        storage = run_dir / "am-data"
        storage.mkdir()
        self.cmd = [exe, f"--config.file={self.cfg}", f"--storage.path={storage}",
                    f"--web.listen-address={HOST}:{self.port}", "--cluster.listen-address=",
                    "--log.level=warn"]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        with (self.run_dir / "alertmanager.log").open("ab") as err:
            started = time.perf_counter()
            self.proc = subprocess.Popen(self.cmd, cwd=self.run_dir, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True)
        return wait_ready(self.proc, self.port, "/-/ready", started=started)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def listening(self) -> list[str]:
        """The TCP sockets this process listens on (to prove gossip is off)."""
        inodes = set()
        for fd in Path(f"/proc/{self.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        found = []
        for table in ("tcp", "tcp6", "udp", "udp6"):
            for line in Path(f"/proc/{self.pid}/net/{table}").read_text().splitlines()[1:]:
                parts = line.split()
                if parts[9] in inodes and (table.startswith("udp") or parts[3] == "0A"):
                    _host, port = parts[1].split(":")
                    found.append(f"{table} {int(port, 16)}")
        return sorted(found)

    def stop(self) -> float:
        assert self.proc is not None
        return stop(self.proc)


# --- alerts -------------------------------------------------------------------------------------


def alert(ident: str, n: int, sent_ns: int, payload: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    notes = {"summary": f"Venda aprovada {n}", "sent_ns": str(sent_ns)}
    if payload:
        notes["description"] = payload
    return {
        "labels": {"alertname": f"bench_{n % GROUPS:03d}", "id": ident, "severity": "warning",
                   "service": "checkout"},
        "annotations": notes,
        "startsAt": now,
        "generatorURL": "http://127.0.0.1/bench",
    }


async def am_bulk(port: int, run: int, count: int, batch: int, payload: str) -> dict[str, Any]:
    url = f"http://{HOST}:{port}/api/v2/alerts"
    batches = [list(range(i, min(count, i + batch))) for i in range(0, count, batch)]
    statuses: dict[int, int] = {}
    next_b = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_b
        while next_b < len(batches):
            b = batches[next_b]
            next_b += 1
            ns = time.monotonic_ns()
            body = json.dumps([alert(f"bulk-r{run}-{i:06d}", i, ns, payload) for i in b]).encode()
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1

    t0 = time.monotonic_ns()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4),
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(worker(session) for _ in range(4)))
    return {"t0_ns": t0, "ingest_s": (time.monotonic_ns() - t0) / 1e9, "statuses": statuses}


async def am_paced(port: int, run: int, rate: float, total: int, payload: str) -> dict[str, Any]:
    url = f"http://{HOST}:{port}/api/v2/alerts"
    sent: list[tuple[int, int, int]] = []

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        ns = time.monotonic_ns()
        body = json.dumps([alert(f"steady-r{run}-{i:06d}", i, ns, payload)]).encode()
        try:
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        sent.append((ns, time.monotonic_ns(), status))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64),
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        start = time.monotonic() + 0.05
        tasks = []
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, i)))
        await asyncio.gather(*tasks)
    return {"sent": sent, "start_ns": int(start * 1e9)}


def wait_distinct(receiver: Receiver, want: int, timeout: float, prefix: str) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if receiver.count(prefix)["distinct_alerts"] >= want:
            return True
        time.sleep(0.02)
    return False


def first_arrivals(items: list[list[Any]], prefix: str) -> dict[str, tuple[int, int | None]]:
    """alert id -> (first arrival ns, sent ns), for the ids that start with ``prefix``."""
    first: dict[str, tuple[int, int | None]] = {}
    for arrival, ident, sent in items:
        if ident is None or not ident.startswith(prefix):
            continue
        if ident not in first or arrival < first[ident][0]:
            first[ident] = (arrival, sent)
    return first


def bench_am(args: argparse.Namespace, exe: str, run: int, mode: str, run_dir: Path,
             receiver: Receiver) -> dict[str, Any]:
    """Bulk on one fresh Alertmanager, steady on another (earlier alerts would still be firing
    and, in grouped mode, ride along in every later notification of their group)."""
    receiver.reset()
    (run_dir / "bulk").mkdir()
    am = Alertmanager(exe, run_dir / "bulk", mode, receiver.url("/am"), args.group_interval)
    res: dict[str, Any] = {"run": run, "mode": mode, "contender": f"alertmanager {mode}"}
    res["startup_s"] = am.start()
    payload = "x" * args.payload_bytes
    try:
        res["listening"] = am.listening()
        time.sleep(1.0)
        res["idle"] = memory(am.pid)

        # bulk
        cpu0, rcpu0 = cpu_seconds(am.pid), receiver.cpu()
        foreign = Foreign([am.pid, receiver.proc.pid])
        bulk = asyncio.run(am_bulk(am.port, run, args.alerts, args.batch, payload))
        ok = wait_distinct(receiver, args.alerts, timeout=max(120.0, args.alerts / 50), prefix="bulk-")
        res["bulk_foreign"] = foreign.done()
        res["bulk_cpu_s"] = cpu_seconds(am.pid) - cpu0
        res["bulk_receiver_cpu_s"] = receiver.cpu() - rcpu0
        res["after_bulk"] = memory(am.pid)
        results = receiver.results()
        first = first_arrivals(results["am"], "bulk-")
        if not ok or len(first) < args.alerts:
            raise RuntimeError(f"alertmanager {mode}: only {len(first)} of {args.alerts} alerts arrived")
        last = max(a for a, _ in first.values())
        res["bulk_statuses"] = bulk["statuses"]
        res["bulk_ingest_s"] = bulk["ingest_s"]
        res["bulk_s"] = (last - bulk["t0_ns"]) / 1e9
        res["bulk_per_s"] = args.alerts / res["bulk_s"]
        res["bulk_requests"] = results["am_requests"]
        res["bulk_alert_copies"] = len(results["am"])
        res["bulk_body_mb"] = results["am_body_bytes"] / 1e6
        res["bulk_windows"] = per_second_windows([a for a, _ in first.values()])
        log(f"run {run} am {mode}: bulk {args.alerts} in {res['bulk_s']:.2f}s = {res['bulk_per_s']:.0f} alerts/s "
            f"(ingest {bulk['ingest_s']:.2f}s, {res['bulk_requests']} notifications, "
            f"{res['bulk_alert_copies']} alert copies), CPU {res['bulk_cpu_s']:.1f}s, "
            f"VmHWM {res['after_bulk']['VmHWM'] / 1024:.0f} MiB; other processes {res['bulk_foreign']}")
    finally:
        res["shutdown_s"] = am.stop()

    # steady, on a fresh Alertmanager
    receiver.reset()
    (run_dir / "steady").mkdir()
    am = Alertmanager(exe, run_dir / "steady", mode, receiver.url("/am"), args.group_interval)
    res["startup_steady_s"] = am.start()
    try:
        time.sleep(1.0)
        total = int((args.warmup + args.duration) * args.rate)
        cpu0, rcpu0 = cpu_seconds(am.pid), receiver.cpu()
        foreign = Foreign([am.pid, receiver.proc.pid])
        load = asyncio.run(am_paced(am.port, run, args.rate, total, payload))
        complete = wait_distinct(receiver, total, timeout=60, prefix="steady-")
        res["steady_foreign"] = foreign.done()
        res["steady_cpu_s"] = cpu_seconds(am.pid) - cpu0
        res["steady_receiver_cpu_s"] = receiver.cpu() - rcpu0
        res["after_steady"] = memory(am.pid)
        results = receiver.results()
        first = first_arrivals(results["am"], "steady-")
        cutoff = load["start_ns"] + int(args.warmup * 1e9)
        res["latency_ms"] = latency_stats([(a - s) / 1e6 for a, s in first.values() if s and s >= cutoff])
        sent = load["sent"]
        res["steady_sent"] = len(sent)
        res["steady_ok"] = sum(1 for *_, st in sent if 200 <= st < 300)
        res["steady_received"] = len(first)
        res["steady_complete"] = complete
        res["steady_requests"] = results["am_requests"]
        res["steady_alert_copies"] = len(results["am"])
        res["ingest_response_ms"] = latency_stats([(b - a) / 1e6 for a, b, _ in sent if a >= cutoff])
        span = (max(a for a, _, _ in sent) - min(a for a, _, _ in sent)) / 1e9
        res["steady_offered_rate"] = (len(sent) - 1) / span if span > 0 else float("nan")
        lat = res["latency_ms"]
        log(f"run {run} am {mode}: steady {res['steady_offered_rate']:.0f}/s p50 {lat['p50']:.2f} p99 "
            f"{lat['p99']:.2f} max {lat['max']:.2f} ms (n={lat['n']}, received {len(first)}/{total}), "
            f"CPU {res['steady_cpu_s']:.1f}s, VmHWM {res['after_steady']['VmHWM'] / 1024:.0f} MiB; "
            f"other processes {res['steady_foreign']}")
    finally:
        am.stop()
    res["config"] = am.config_text
    return res


def bench_ponte(args: argparse.Namespace, run: int, run_dir: Path, receiver: Receiver) -> dict[str, Any]:
    """Ponte, measured like Alertmanager: bulk end to end, then the backlog drain and steady load."""
    dargs = argparse.Namespace(backlog=args.alerts, rate=args.rate, duration=args.duration,
                               warmup=args.warmup, concurrency=args.concurrency, log_level="info",
                               sign=True, trace=None)
    bodies = delivery.Bodies()
    # bulk, end to end: the sink is on while the events come in
    e2e_dir = run_dir / "e2e"
    e2e_dir.mkdir()
    receiver.reset()
    ponte = delivery.Ponte(dargs, e2e_dir, receiver.url("/hook"))
    res: dict[str, Any] = {"run": run, "contender": "ponte"}
    ponte.start()
    try:
        cpu0 = cpu_seconds(ponte.pid)
        foreign = Foreign([ponte.pid, receiver.proc.pid], probe_dir=e2e_dir)
        t0 = time.monotonic_ns()
        fill = asyncio.run(delivery.prefill(ponte.port, bodies, run, args.alerts, 32))
        ok = delivery.wait_for_receiver(receiver, args.alerts, timeout=max(120.0, args.alerts / 50))
        res["bulk_foreign"] = foreign.done()
        res["bulk_cpu_s"] = cpu_seconds(ponte.pid) - cpu0
        res["bulk_after"] = memory(ponte.pid)
        hooks = receiver.results()["hooks"]
        if not ok or len(hooks) < args.alerts:
            raise RuntimeError(f"ponte e2e: only {len(hooks)} of {args.alerts} arrived")
        last = max(a for a, _, _ in hooks)
        res["bulk_ingest_s"] = fill["seconds"]
        res["bulk_s"] = (last - t0) / 1e9
        res["bulk_per_s"] = args.alerts / res["bulk_s"]
        log(f"run {run} ponte: bulk end to end {args.alerts} in {res['bulk_s']:.2f}s = "
            f"{res['bulk_per_s']:.0f}/s (ingest {fill['seconds']:.2f}s), CPU {res['bulk_cpu_s']:.1f}s; "
            f"other processes {res['bulk_foreign']}")
    finally:
        ponte.stop()
    # backlog drain + steady, exactly as bench/delivery.py measures them
    main_dir = run_dir / "main"
    main_dir.mkdir()
    res["delivery"] = delivery.one_run(dargs, run, main_dir, receiver, bodies)
    return res


# --- report --------------------------------------------------------------------------------------


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["contender"], []).append(r)
    for name, rs in by.items():
        if name == "ponte":
            d = [r["delivery"] for r in rs]
            out[name] = {
                "bulk_per_s": spread([r["bulk_per_s"] for r in rs]),
                "drain_per_s": spread([x["deliveries_per_s"] for x in d]),
                "p50_ms": spread([x["latency_ms"]["p50"] for x in d]),
                "p99_ms": spread([x["latency_ms"]["p99"] for x in d]),
                "max_ms": spread([x["latency_ms"]["max"] for x in d]),
                "idle_mib": spread([x["idle"]["VmRSS"] / 1024 for x in d]),
                "hwm_mib": spread([max(r["bulk_after"]["VmHWM"], r["delivery"]["after_steady"]["VmHWM"]) / 1024
                                   for r in rs]),
                "startup_s": spread([x["startup_s"] for x in d]),
                "steady_cpu_pct": spread([100 * x["steady_cpu_s"] / (x["steady_seconds"]) for x in d]),
            }
        else:
            out[name] = {
                "bulk_per_s": spread([r["bulk_per_s"] for r in rs]),
                "bulk_requests": spread([r["bulk_requests"] for r in rs]),
                "bulk_alert_copies": spread([r["bulk_alert_copies"] for r in rs]),
                "p50_ms": spread([r["latency_ms"]["p50"] for r in rs]),
                "p99_ms": spread([r["latency_ms"]["p99"] for r in rs]),
                "max_ms": spread([r["latency_ms"]["max"] for r in rs]),
                "idle_mib": spread([r["idle"]["VmRSS"] / 1024 for r in rs]),
                "hwm_mib": spread([max(r["after_bulk"]["VmHWM"], r["after_steady"]["VmHWM"]) / 1024 for r in rs]),
                "hwm_bulk_mib": spread([r["after_bulk"]["VmHWM"] / 1024 for r in rs]),
                "hwm_steady_mib": spread([r["after_steady"]["VmHWM"] / 1024 for r in rs]),
                "startup_s": spread([r["startup_s"] for r in rs]),
                "steady_cpu_pct": spread([100 * r["steady_cpu_s"] / r["steady_seconds"] for r in rs]),
                "bulk_cpu_s": spread([r["bulk_cpu_s"] for r in rs]),
            }
    return out


def text_report(rep: dict[str, Any]) -> str:
    m, a, s = rep["machine"], rep["args"], rep["summary"]
    lines = [
        f"command: {rep['command']}",
        (f"machine: {m['nproc']} x {m['cpu']}, {m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}; "
         f"{rep['alertmanager_version']}; storage on {rep['filesystem']}"),
        (f"settings: {a['alerts']} alerts (bulk batches of {a['batch']}), steady {a['rate']}/s for {a['duration']}s "
         f"after {a['warmup']}s warm-up, payload {a['payload_bytes']} B/alert, group_interval {a['group_interval']}, "
         f"runs {a['runs']}"),
        "",
        "min / median / max",
    ]
    f0, f2, f1 = "{:.0f}", "{:.2f}", "{:.1f}"
    for name, x in s.items():
        lines.append(f"{name}:")
        lines.append(f"  bulk, items/s first POST -> last arrival   {fmt_spread(x['bulk_per_s'], f0)}")
        if "drain_per_s" in x:
            lines.append(f"  backlog drain, deliveries/s               {fmt_spread(x['drain_per_s'], f0)}")
        else:
            lines.append(f"  bulk: notifications (HTTP requests)       {fmt_spread(x['bulk_requests'], f0)}")
            lines.append(f"  bulk: alert copies received               {fmt_spread(x['bulk_alert_copies'], f0)}")
            lines.append(f"  VmHWM after bulk, MiB                     {fmt_spread(x['hwm_bulk_mib'], f1)}")
            lines.append(f"  VmHWM after steady (fresh), MiB           {fmt_spread(x['hwm_steady_mib'], f1)}")
        lines.append(f"  steady p50 / p99 / max, ms (medians)      {x['p50_ms']['median']:.2f} / "
                     f"{x['p99_ms']['median']:.2f} / {x['max_ms']['median']:.2f}")
        lines.append(f"  steady p99, ms                            {fmt_spread(x['p99_ms'], f2)}")
        lines.append(f"  steady CPU, % of one core                 {fmt_spread(x['steady_cpu_pct'], f0)}")
        lines.append(f"  idle RSS, MiB                             {fmt_spread(x['idle_mib'], f1)}")
        lines.append(f"  VmHWM (whole run), MiB                    {fmt_spread(x['hwm_mib'], f1)}")
        lines.append(f"  start-up to ready, s                      {fmt_spread(x['startup_s'], '{:.3f}')}")
    lines.append("")
    lines.append("per run:")
    for r in rep["rows"]:
        if r["contender"] == "ponte":
            d = r["delivery"]
            fc = max(r["bulk_foreign"]["foreign_cores"], d["drain_foreign"]["foreign_cores"],
                     d["steady_foreign"]["foreign_cores"])
            lines.append(f"  run {r['run']} ponte: bulk {r['bulk_per_s']:.0f}/s, drain {d['deliveries_per_s']:.0f}/s, "
                         f"steady p99 {d['latency_ms']['p99']:.2f} ms, "
                         f"VmHWM {d['after_steady']['VmHWM'] / 1024:.0f} MiB, "
                         f"other processes up to {fc} cores")
        else:
            lines.append(f"  run {r['run']} {r['contender']}: bulk {r['bulk_per_s']:.0f} alerts/s "
                         f"({r['bulk_requests']} requests, {r['bulk_alert_copies']} copies, per second "
                         f"{r['bulk_windows']}), steady p99 {r['latency_ms']['p99']:.2f} ms "
                         f"({r['steady_received']}/{r['steady_sent']} received, {r['steady_requests']} requests), "
                         f"VmHWM bulk/steady {r['after_bulk']['VmHWM'] / 1024:.0f}/"
                         f"{r['after_steady']['VmHWM'] / 1024:.0f} MiB, listening {r['listening']}, other processes "
                         f"up to {max(r['bulk_foreign']['foreign_cores'], r['steady_foreign']['foreign_cores'])} cores")
    lines.append("")
    for mode, cfg in rep["configs"].items():
        lines.append(f"alertmanager config ({mode}):")
        lines += ["  " + line for line in cfg.splitlines()]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Alertmanager vs Ponte forwarding benchmark (loopback only).")
    p.add_argument("--alerts", type=int, default=10000, help="bulk alerts / backlog events (default 10000)")
    p.add_argument("--batch", type=int, default=100, help="alerts per bulk POST (default 100)")
    p.add_argument("--rate", type=float, default=500, help="steady alerts/s (default 500)")
    p.add_argument("--duration", type=float, default=20, help="measured steady seconds (default 20)")
    p.add_argument("--warmup", type=float, default=2, help="steady warm-up seconds (default 2)")
    p.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    p.add_argument("--modes", default="per-alert,grouped", help="alertmanager modes (default both)")
    p.add_argument("--group-interval", default="1s", help="grouped mode's group_interval (default 1s)")
    p.add_argument("--payload-bytes", type=int, default=3000,
                   help="description annotation size, ~Ponte's body size (default 3000)")
    p.add_argument("--concurrency", type=int, default=64, help="Ponte sink concurrency (default 64)")
    p.add_argument("--no-ponte", dest="ponte", action="store_false", help="Alertmanager only")
    p.add_argument("--tmpdir", help="where the temp dir goes")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if any(m not in ("per-alert", "grouped") for m in args.modes):
        p.error("--modes: per-alert and/or grouped")
    if not (1 <= args.alerts <= 1_000_000 and 0 < args.rate <= 5000 and 0 < args.duration <= 600
            and 1 <= args.runs <= 20 and 1 <= args.batch <= 10000):
        p.error("out of bounds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exe = shutil.which(AM_BINARY) or shutil.which("alertmanager")
    if exe is None:
        print("prometheus-alertmanager is not installed:\n  apt-get install -y prometheus-alertmanager",
              file=sys.stderr)
        return 2
    command = "python " + " ".join(shlex.quote(x) for x in [os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    tmp = Path(tempfile.mkdtemp(prefix="ponte-am-", dir=args.tmpdir))
    log(f"temp dir {tmp}")
    receiver = Receiver(tmp)
    rows: list[dict[str, Any]] = []
    configs: dict[str, str] = {}
    try:
        for run in range(1, args.runs + 1):
            contenders = [*args.modes, *(["ponte"] if args.ponte else [])]
            if run % 2 == 0:
                contenders.reverse()
            for who in contenders:
                run_dir = tmp / f"run{run}-{who}"
                run_dir.mkdir()
                if who == "ponte":
                    r = bench_ponte(args, run, run_dir, receiver)
                else:
                    r = bench_am(args, exe, run, who, run_dir, receiver)
                    configs[who] = r["config"]
                r["steady_seconds"] = args.warmup + args.duration
                if "delivery" in r:
                    r["delivery"]["steady_seconds"] = args.warmup + args.duration
                rows.append(r)
        report = {
            "command": command, "machine": machine(), "filesystem": fs_type(tmp),
            "alertmanager_version": am_version(exe), "args": vars(args), "rows": rows,
            "configs": configs, "summary": summarize(rows),
        }
        print(json.dumps(report, indent=2, default=str) if args.json else text_report(report))
        return 0
    finally:
        receiver.close()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
