"""Delivery benchmark: how fast Ponte empties a backlog, and ingest-to-arrival latency at a steady rate.

    python bench/delivery.py [--backlog 10000] [--rate 500] [--duration 20] [--runs 3]
                             [--concurrency 64] [--warmup 2] [--startup-runs 5]
                             [--log-level info] [--no-sign] [--profile DIR] [--json] [--keep]

One local receiver (``bench/delivery_receiver.py``, a bare aiohttp server in its own
process that answers 200 and records each arrival) serves every run. Per run, in a fresh
temp dir, with a fresh database:

1. start ``ponte serve`` (one eduzz source, one webhook sink pointing at the receiver,
   one catch-all route; admin API on) and time it to ``GET /readyz`` 200; read its idle RSS;
2. **backlog**: disable the sink (``POST /api/sinks/recv/disable``), ingest ``--backlog``
   distinct signed events over HTTP (32 connections), then enable the sink and time until
   every delivery is ``succeeded`` in SQLite (the database is read with ``mode=ro``; the end
   time is the last delivery's ``updated_at``, so polling granularity does not count);
3. **latency**: a paced, open-loop aiohttp client in this process sends ``--rate`` signed
   events/s for ``--warmup`` + ``--duration`` s, each body carrying its send time
   (``benchSentNs``, CLOCK_MONOTONIC); the receiver stamps the arrival with the same clock.
   Latency = arrival - send, over the events sent after the warm-up;
4. read VmHWM, stop Ponte (SIGTERM), count the database, and restart Ponte once on the
   now non-empty database to time a warm start.

Before the runs, ``--startup-runs`` cold starts on an empty database time start-up alone.
``--profile DIR`` adds one extra, separate run under py-spy (it slows Ponte, so it is never
part of the figures) and writes the collapsed stacks and a summary to DIR.
Loopback only. Progress goes to stderr, the report to stdout (JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (
    HOST,
    ROOT,
    Foreign,
    Receiver,
    connect,
    cpu_seconds,
    drop_schemas,
    fmt_spread,
    free_port,
    fs_type,
    http_call,
    latency_stats,
    log,
    machine,
    memory,
    per_second_windows,
    spread,
    stop,
    store_url,
    sys_seconds,
    thread_cpu,
    thread_delta,
    thread_names,
    wait_ready,
)

FIXTURE = ROOT / "service" / "eduzz" / "fixtures" / "myeduzz.invoice_paid.json"
SECRET = "bench-secret-0123456789"
ADMIN = "bench-admin-token"
SINK = "recv"
TRACE = Path(__file__).resolve().parent / "delivery_trace.py"
SIGNING = "whsec_YmVuY2gtc2lnbmluZy1rZXktMDEyMzQ1Njc4OQ=="

CONFIG = """\
# Written by bench/delivery.py: one source, one webhook sink at the local receiver, one route.
server:
  host: 127.0.0.1
  port: {port}
  admin_token: "{admin}"
storage:
  url: "{store}"
sources:
  eduzz:
    type: eduzz
    secrets: ["{secret}"]
sinks:
  {sink}:
    type: webhook
    url: {url}
    concurrency: {concurrency}
    timeout: 10s
{signing}routes:
  - name: tudo
    events: ["*"]
    to: [{sink}]
"""


# --- bodies ----------------------------------------------------------------------------------


class Bodies:
    """Distinct Eduzz ``invoice_paid`` bodies; ``benchSentNs`` (the send time) is the last key."""

    def __init__(self) -> None:
        self.base = json.loads(FIXTURE.read_text(encoding="utf-8"))

    def make(self, ident: str, n: int, sent_ns: int) -> bytes:
        doc = self.base
        doc["id"] = ident
        doc["data"]["id"] = str(10_000_000 + n)
        doc["benchSentNs"] = sent_ns
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


# --- Ponte ---------------------------------------------------------------------------------------


class Ponte:
    """``ponte serve`` on a fresh (or given) run dir."""

    def __init__(self, args: argparse.Namespace, run_dir: Path, receiver_url: str) -> None:
        self.run_dir = run_dir
        self.port = free_port()
        self.db = run_dir / "ponte.db"
        self.store = store_url(args.store, self.db)
        self.cfg = run_dir / "ponte.yaml"
        signing = f"    signing_secret: {SIGNING}\n" if args.sign else ""
        self.cfg.write_text(CONFIG.format(port=self.port, admin=ADMIN, store=self.store, secret=SECRET,
                                          sink=SINK, url=receiver_url, concurrency=args.concurrency,
                                          signing=signing))
        exe = shutil.which("ponte", path=str(Path(sys.executable).parent)) or str(ROOT / ".venv/bin/ponte")
        self.cmd = [exe, "serve", "--config", str(self.cfg), "--host", HOST, "--port", str(self.port),
                    "--log-format", "json", "--log-level", args.log_level]
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = run_dir / "ponte.log"
        self.experiments: list[str] = list(getattr(args, "experiment", None) or [])

    def start(self, trace: Path | None = None) -> float:
        """Start (under bench/delivery_trace.py when ``trace``); seconds from exec to GET /readyz 200."""
        env = None
        cmd = self.cmd
        if trace is not None or self.experiments:
            cmd = [sys.executable, str(TRACE), str(trace) if trace else "-", *self.cmd[1:]]
            env = {**os.environ, "PONTE_BENCH_EXPERIMENTS": ",".join(self.experiments)}
        with self.log_path.open("ab") as err:
            started = time.perf_counter()
            self.proc = subprocess.Popen(cmd, cwd=self.run_dir, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True, env=env)
        return wait_ready(self.proc, self.port, "/readyz", started=started)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def api(self, path: str) -> dict[str, Any]:
        status, raw = http_call(self.port, "POST", path, b"",
                                {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"POST {path}: HTTP {status} {raw[:200]!r}")
        return json.loads(raw)

    def stop(self) -> tuple[float, int]:
        assert self.proc is not None
        took = stop(self.proc)
        return took, self.proc.returncode

    def db_counts(self) -> dict[str, Any]:
        conn = connect(self.store)
        try:
            statuses = dict(conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())
            attempts = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
            events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            schema = conn.execute("SELECT COUNT(*) FROM events WHERE schema_error IS NOT NULL").fetchone()[0]
        finally:
            conn.close()
        return {"events": events, "deliveries": statuses, "attempts": attempts, "schema_errors": schema}


def idle_rss(pid: int, settle: float) -> dict[str, int]:
    time.sleep(settle)
    return memory(pid)


# --- load generators --------------------------------------------------------------------------


async def prefill(port: int, bodies: Bodies, run: int, count: int, connections: int) -> dict[str, Any]:
    """Ingest ``count`` distinct signed events as fast as ``connections`` connections allow."""
    url = f"http://{HOST}:{port}/webhooks/eduzz"
    statuses: dict[str, int] = {}
    next_i = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_i
        while next_i < count:
            i = next_i
            next_i += 1
            body = bodies.make(f"backlog-r{run}-{i:06d}", i, 0)
            headers = {"x-signature": sign(body), "content-type": "application/json"}
            async with session.post(url, data=body, headers=headers) as resp:
                payload = await resp.json(content_type=None)
                key = f"{resp.status} {payload.get('status')}"
                statuses[key] = statuses.get(key, 0) + 1

    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections),
                                     timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    took = time.perf_counter() - started
    return {"statuses": statuses, "seconds": took, "rps": count / took}


async def paced(port: int, bodies: Bodies, run: int, rate: float, total: int,
                connections: int) -> dict[str, Any]:
    """Open loop: request i is started at start + i/rate whatever happened to the earlier ones."""
    url = f"http://{HOST}:{port}/webhooks/eduzz"
    sent: list[tuple[int, int, int, int, int]] = []  # i, target_ns, sent_ns, answered_ns, status

    async def one(session: aiohttp.ClientSession, i: int, target_ns: int) -> None:
        ns = time.monotonic_ns()
        body = bodies.make(f"lat-r{run}-{i:06d}", 1_000_000 + i, ns)
        headers = {"x-signature": sign(body), "content-type": "application/json"}
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        sent.append((i, target_ns, ns, time.monotonic_ns(), status))

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections),
                                     timeout=timeout) as session:
        start = time.monotonic() + 0.05
        tasks = []
        for i in range(total):
            target = start + i / rate
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, i, int(target * 1e9))))
        await asyncio.gather(*tasks)
    return {"sent": sent, "start_ns": int(start * 1e9)}


# --- one run -------------------------------------------------------------------------------------


def wait_for_receiver(receiver: Receiver, want: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if receiver.count()["requests"] >= want:
            return True
        time.sleep(0.02)
    return False


def wait_succeeded(ponte: Ponte, want: int, timeout: float) -> tuple[int, float | None]:
    """Poll the database until ``want`` deliveries are succeeded; their last ``updated_at``."""
    deadline = time.monotonic() + timeout
    conn = connect(ponte.store)
    try:
        done, last = 0, None
        while time.monotonic() < deadline:
            done, last = conn.execute(
                "SELECT COUNT(*), MAX(updated_at) FROM deliveries WHERE status = 'succeeded'").fetchone()
            if done >= want:
                break
            time.sleep(0.02)
        return done, last
    finally:
        conn.close()


def profiler(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if exe is None:
        log("py-spy not found: pip install py-spy")
        return None
    cmd = [exe, "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--threads",
           "--nonblocking", "--duration", str(int(seconds) + 1), "-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def one_run(args: argparse.Namespace, run: int, run_dir: Path, receiver: Receiver,
            bodies: Bodies, profile: Path | None = None) -> dict[str, Any]:
    receiver.reset()
    ponte = Ponte(args, run_dir, receiver.url("/hook"))
    res: dict[str, Any] = {"run": run}
    trace = Path(args.trace) / f"run{run}.json" if args.trace else None
    res["startup_s"] = ponte.start(trace)
    try:
        res["idle"] = idle_rss(ponte.pid, 1.0)
        names = thread_names(ponte.pid)
        ponte.api(f"/api/sinks/{SINK}/disable")

        # --- backlog -------------------------------------------------------------------
        fill = asyncio.run(prefill(ponte.port, bodies, run, args.backlog, 32))
        res["prefill"] = fill
        accepted = fill["statuses"].get("200 accepted", 0)
        if accepted != args.backlog:
            raise RuntimeError(f"prefill: expected {args.backlog} accepted, got {fill['statuses']}")
        res["after_prefill"] = memory(ponte.pid)
        cpu0, rcpu0, th0 = cpu_seconds(ponte.pid), receiver.cpu(), thread_cpu(ponte.pid)
        sys0 = sys_seconds(ponte.pid)
        prof = profiler(ponte.pid, profile / "drain.txt", 10) if profile else None
        foreign = Foreign([ponte.pid, receiver.proc.pid], probe_dir=run_dir)
        t0 = time.time()
        w0 = time.perf_counter()
        ponte.api(f"/api/sinks/{SINK}/enable")
        got_all = wait_for_receiver(receiver, args.backlog, timeout=max(120.0, args.backlog / 50))
        done, last = wait_succeeded(ponte, args.backlog, timeout=60)
        wall = time.time() - t0
        res["drain_foreign"] = foreign.done()
        res["drain_cpu_s"] = cpu_seconds(ponte.pid) - cpu0
        res["drain_sys_s"] = sys_seconds(ponte.pid) - sys0
        res["drain_threads_cpu_s"] = thread_delta(th0, thread_cpu(ponte.pid), names)
        res["drain_receiver_cpu_s"] = receiver.cpu() - rcpu0
        if prof is not None:
            prof.wait(60)
        if not got_all or done < args.backlog or last is None:
            raise RuntimeError(f"drain incomplete: receiver {receiver.count()}, succeeded {done}")
        res["drain_s"] = last - t0
        res["drain_wall_s"] = wall
        res["drain_window"] = [w0, w0 + (last - t0)]
        res["deliveries_per_s"] = args.backlog / (last - t0)
        res["after_drain"] = memory(ponte.pid)
        hooks = receiver.results()["hooks"]
        arrivals = sorted(a for a, _, _ in hooks)
        ids = [i for _, i, _ in hooks]
        res["drain_received"] = len(hooks)
        res["drain_duplicates"] = len(ids) - len(set(ids))
        span = (arrivals[-1] - arrivals[0]) / 1e9
        res["receiver_rate"] = (len(arrivals) - 1) / span if span > 0 else float("nan")
        res["drain_windows"] = per_second_windows(arrivals)
        log(f"run {run}: drain {args.backlog} in {res['drain_s']:.2f}s = {res['deliveries_per_s']:.0f}/s "
            f"(receiver-side {res['receiver_rate']:.0f}/s), ponte CPU {res['drain_cpu_s']:.1f}s, "
            f"receiver CPU {res['drain_receiver_cpu_s']:.1f}s, prefill {fill['rps']:.0f} req/s; "
            f"ponte threads {res['drain_threads_cpu_s']}; other processes {res['drain_foreign']}")

        # --- latency at a steady rate ---------------------------------------------------------
        receiver.reset()
        total = int((args.warmup + args.duration) * args.rate)
        cpu0, rcpu0, th0 = cpu_seconds(ponte.pid), receiver.cpu(), thread_cpu(ponte.pid)
        sys0 = sys_seconds(ponte.pid)
        own0 = time.process_time()
        w0 = time.perf_counter()
        foreign = Foreign([ponte.pid, receiver.proc.pid], probe_dir=run_dir)
        prof = profiler(ponte.pid, profile / "steady.txt", args.warmup + args.duration) if profile else None
        load = asyncio.run(paced(ponte.port, bodies, run, args.rate, total, 64))
        complete = wait_for_receiver(receiver, total, timeout=60)
        res["steady_window"] = [w0 + args.warmup, time.perf_counter()]
        res["steady_foreign"] = foreign.done()
        res["steady_cpu_s"] = cpu_seconds(ponte.pid) - cpu0
        res["steady_sys_s"] = sys_seconds(ponte.pid) - sys0
        res["steady_threads_cpu_s"] = thread_delta(th0, thread_cpu(ponte.pid), names)
        res["steady_client_cpu_s"] = time.process_time() - own0
        res["steady_receiver_cpu_s"] = receiver.cpu() - rcpu0
        if prof is not None:
            prof.wait(60)
        res["after_steady"] = memory(ponte.pid)
        hooks = receiver.results()["hooks"]
        cutoff = load["start_ns"] + int(args.warmup * 1e9)
        measured = [(a - s) / 1e6 for a, _, s in hooks if s and s >= cutoff]
        res["latency_ms"] = latency_stats(measured)
        sent = load["sent"]
        ok = sum(1 for *_, st in sent if st == 200)
        res["steady_sent"], res["steady_200"] = len(sent), ok
        res["steady_received"], res["steady_complete"] = len(hooks), complete
        answered = sorted((ans - s) / 1e6 for _, _, s, ans, _ in sent if s >= cutoff)
        res["ingest_response_ms"] = latency_stats(answered)
        lag = sorted((s - t) / 1e6 for _, t, s, _, _ in sent)
        res["client_lag_ms"] = {"p50": lag[len(lag) // 2], "max": lag[-1]}
        span = (max(s for _, _, s, _, _ in sent) - min(s for _, _, s, _, _ in sent)) / 1e9
        res["steady_offered_rate"] = (len(sent) - 1) / span if span > 0 else float("nan")
        lat = res["latency_ms"]
        log(f"run {run}: steady {res['steady_offered_rate']:.0f}/s: arrival-send p50 {lat['p50']:.2f} ms "
            f"p99 {lat['p99']:.2f} ms max {lat['max']:.2f} ms (n={lat['n']}); ingest 200 p50 "
            f"{res['ingest_response_ms']['p50']:.2f} ms p99 {res['ingest_response_ms']['p99']:.2f} ms; "
            f"ponte CPU {res['steady_cpu_s']:.1f}s / {args.warmup + args.duration:.0f}s "
            f"{res['steady_threads_cpu_s']}, receiver CPU {res['steady_receiver_cpu_s']:.1f}s, "
            f"client CPU {res['steady_client_cpu_s']:.1f}s; other processes {res['steady_foreign']}")
    finally:
        took, code = ponte.stop()
    res["shutdown_s"], res["exit_code"] = took, code
    res["db"] = ponte.db_counts()
    # a warm start on the database this run filled
    res["warm_startup_s"] = ponte.start()
    res["warm_idle"] = idle_rss(ponte.pid, 1.0)
    ponte.stop()
    if trace is not None:
        for phase in ("drain", "steady"):
            lo, hi = res[f"{phase}_window"]
            log(f"trace run {run} {phase}:")
            subprocess.run([sys.executable, str(TRACE), "--summary", str(trace), str(lo), str(hi)],
                           stdout=sys.stderr, check=False)
    res["db_bytes"] = sum(p.stat().st_size for p in run_dir.glob("ponte.db*"))
    return res


def cold_starts(args: argparse.Namespace, tmp: Path, receiver: Receiver) -> list[dict[str, Any]]:
    out = []
    for k in range(args.startup_runs):
        run_dir = tmp / f"start{k + 1}"
        run_dir.mkdir()
        ponte = Ponte(args, run_dir, receiver.url("/hook"))
        took = ponte.start()
        mem = idle_rss(ponte.pid, 1.0)
        ponte.stop()
        out.append({"startup_s": took, **mem})
    return out


# --- report ----------------------------------------------------------------------------------------


def summarize(runs: list[dict[str, Any]], starts: list[dict[str, Any]]) -> dict[str, Any]:
    def col(f: Any) -> dict[str, float]:
        return spread([f(r) for r in runs])

    return {
        "deliveries_per_s": col(lambda r: r["deliveries_per_s"]),
        "drain_s": col(lambda r: r["drain_s"]),
        "receiver_rate": col(lambda r: r["receiver_rate"]),
        "drain_cpu_s": col(lambda r: r["drain_cpu_s"]),
        "drain_receiver_cpu_s": col(lambda r: r["drain_receiver_cpu_s"]),
        "prefill_rps": col(lambda r: r["prefill"]["rps"]),
        "p50_ms": col(lambda r: r["latency_ms"]["p50"]),
        "p90_ms": col(lambda r: r["latency_ms"]["p90"]),
        "p99_ms": col(lambda r: r["latency_ms"]["p99"]),
        "max_ms": col(lambda r: r["latency_ms"]["max"]),
        "ingest_p50_ms": col(lambda r: r["ingest_response_ms"]["p50"]),
        "ingest_p99_ms": col(lambda r: r["ingest_response_ms"]["p99"]),
        "offered_rate": col(lambda r: r["steady_offered_rate"]),
        "steady_cpu_pct": col(lambda r: 100 * r["steady_cpu_s"] / r["steady_seconds"]),
        "idle_rss_mib": col(lambda r: r["idle"]["VmRSS"] / 1024),
        "hwm_prefill_mib": col(lambda r: r["after_prefill"]["VmHWM"] / 1024),
        "hwm_drain_mib": col(lambda r: r["after_drain"]["VmHWM"] / 1024),
        "hwm_steady_mib": col(lambda r: r["after_steady"]["VmHWM"] / 1024),
        "rss_after_steady_mib": col(lambda r: r["after_steady"]["VmRSS"] / 1024),
        "startup_run_s": col(lambda r: r["startup_s"]),
        "warm_startup_s": col(lambda r: r["warm_startup_s"]),
        "warm_idle_rss_mib": col(lambda r: r["warm_idle"]["VmRSS"] / 1024),
        "cold_startup_s": spread([s["startup_s"] for s in starts]) if starts else None,
        "cold_idle_rss_mib": spread([s["VmRSS"] / 1024 for s in starts]) if starts else None,
        "shutdown_s": col(lambda r: r["shutdown_s"]),
        "foreign_cores": spread([max(r["drain_foreign"]["foreign_cores"], r["steady_foreign"]["foreign_cores"])
                                 for r in runs]),
    }


def text_report(rep: dict[str, Any]) -> str:
    s, m, a = rep["summary"], rep["machine"], rep["args"]
    ms = "{:.2f}"
    mib = "{:.1f}"
    lines = [
        f"command: {rep['command']}",
        (f"machine: {m['nproc']} x {m['cpu']}, {m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}, "
         f"aiohttp {m.get('aiohttp')}, SQLite {m['sqlite']}; database on {rep['filesystem']}"),
        (f"settings: backlog {a['backlog']}, sink concurrency {a['concurrency']}, no rate limit, "
         f"signing {'on' if a['sign'] else 'off'}, log level {a['log_level']} (JSON to a file), "
         f"steady {a['rate']}/s for {a['duration']}s after {a['warmup']}s warm-up, runs {a['runs']}"),
        *([f"EXPERIMENT (not Ponte as shipped): {', '.join(a['experiment'])}"] if a.get("experiment") else []),
        *(["TRACED (timing probes on: diagnosis only)"] if a.get("trace") else []),
        "",
        "                                         min / median / max",
        f"backlog drain: deliveries/s              {fmt_spread(s['deliveries_per_s'])}   (target >= 2000)",
        f"  drain time, s                          {fmt_spread(s['drain_s'], ms)}",
        f"  receiver-side arrivals/s               {fmt_spread(s['receiver_rate'])}",
        f"  ponte CPU during drain, s              {fmt_spread(s['drain_cpu_s'], ms)}",
        f"  receiver CPU during drain, s           {fmt_spread(s['drain_receiver_cpu_s'], ms)}",
        f"  prefill ingest (32 conns), req/s       {fmt_spread(s['prefill_rps'])}",
        f"steady {a['rate']}/s: offered rate             {fmt_spread(s['offered_rate'])}",
        f"  ingest->arrival p50, ms                {fmt_spread(s['p50_ms'], ms)}",
        f"  ingest->arrival p90, ms                {fmt_spread(s['p90_ms'], ms)}",
        f"  ingest->arrival p99, ms                {fmt_spread(s['p99_ms'], ms)}   (target < 50)",
        f"  ingest->arrival max, ms                {fmt_spread(s['max_ms'], ms)}",
        f"  ingest 200 p50, ms                     {fmt_spread(s['ingest_p50_ms'], ms)}",
        f"  ingest 200 p99, ms                     {fmt_spread(s['ingest_p99_ms'], ms)}",
        f"  ponte CPU, % of one core               {fmt_spread(s['steady_cpu_pct'])}",
        f"memory: idle RSS after /readyz, MiB      {fmt_spread(s['idle_rss_mib'], mib)}",
        f"  VmHWM after prefill, MiB               {fmt_spread(s['hwm_prefill_mib'], mib)}",
        f"  VmHWM after drain, MiB                 {fmt_spread(s['hwm_drain_mib'], mib)}",
        f"  VmHWM after steady load, MiB           {fmt_spread(s['hwm_steady_mib'], mib)}",
        f"  RSS after steady load, MiB             {fmt_spread(s['rss_after_steady_mib'], mib)}",
        f"start-up to /readyz (run starts), s      {fmt_spread(s['startup_run_s'], '{:.3f}')}",
        f"  warm start (filled database), s        {fmt_spread(s['warm_startup_s'], '{:.3f}')}",
        f"  idle RSS after warm start, MiB         {fmt_spread(s['warm_idle_rss_mib'], mib)}",
    ]
    if s["cold_startup_s"]:
        lines += [
            f"  cold start x{a['startup_runs']} (empty database), s  {fmt_spread(s['cold_startup_s'], '{:.3f}')}",
            f"  idle RSS after cold start, MiB        {fmt_spread(s['cold_idle_rss_mib'], mib)}",
        ]
    lines.append(f"shutdown (SIGTERM to exit), s            {fmt_spread(s['shutdown_s'], '{:.3f}')}")
    lines.append(f"CPU of other processes (cores), worst phase {fmt_spread(s['foreign_cores'], '{:.2f}')}"
                 "   (near 0: a quiet machine)")
    lines.append("")
    lines.append("per run:")
    for r in rep["runs"]:
        lines.append(
            f"  run {r['run']}: drain {r['deliveries_per_s']:.0f}/s ({r['drain_s']:.2f}s, received "
            f"{r['drain_received']}, duplicates {r['drain_duplicates']}, per-second "
            f"{r['drain_windows']}); steady p50/p99/max {r['latency_ms']['p50']:.2f}/"
            f"{r['latency_ms']['p99']:.2f}/{r['latency_ms']['max']:.2f} ms over {r['latency_ms']['n']} "
            f"(sent {r['steady_sent']}, 200s {r['steady_200']}, received {r['steady_received']}, "
            f"CPU of other processes: drain {r['drain_foreign']['foreign_cores']} cores, steady "
            f"{r['steady_foreign']['foreign_cores']} cores, disk probe fsync max drain/steady "
            f"{r['drain_foreign'].get('fsync_probe_ms', {}).get('max')}/"
            f"{r['steady_foreign'].get('fsync_probe_ms', {}).get('max')} ms, "
            f"client lag p50 {r['client_lag_ms']['p50']:.2f} max {r['client_lag_ms']['max']:.2f} ms); "
            f"db {r['db']}; exit {r['exit_code']}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Ponte delivery benchmark (loopback only).")
    p.add_argument("--backlog", type=int, default=10000, help="events in the backlog (default 10000)")
    p.add_argument("--rate", type=float, default=500, help="steady events/s (default 500)")
    p.add_argument("--duration", type=float, default=20, help="measured steady seconds (default 20)")
    p.add_argument("--warmup", type=float, default=2, help="steady seconds sent before measuring (default 2)")
    p.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    p.add_argument("--concurrency", type=int, default=64, help="the sink's concurrency (default 64)")
    p.add_argument("--startup-runs", type=int, default=5, help="cold starts timed first (default 5)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                   help="Ponte's --log-level (default info: a JSON line per request and per attempt)")
    p.add_argument("--no-sign", dest="sign", action="store_false",
                   help="no signing_secret on the sink (default: Standard Webhooks signing on)")
    p.add_argument("--profile", metavar="DIR", help="one extra run under py-spy; stacks go to DIR")
    p.add_argument("--store", default="sqlite", metavar="sqlite|URL",
                   help="sqlite (default: a file per run) or a postgresql:// server (a new schema per run)")
    p.add_argument("--trace", metavar="DIR",
                   help="run Ponte under bench/delivery_trace.py (timing probes; diagnosis only)")
    p.add_argument("--experiment", action="append", metavar="NAME",
                   help="run Ponte with a candidate fix applied from outside by bench/delivery_trace.py "
                        "(gc_freeze, claim_index, smart_wake; repeatable). The figures are then NOT Ponte's")
    p.add_argument("--tmpdir", help="where the temp dir (and Ponte's databases) go")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    if not (1 <= args.backlog <= 1_000_000 and 0 < args.rate <= 5000 and 0 < args.duration <= 600
            and 1 <= args.runs <= 20 and 0 <= args.startup_runs <= 50):
        p.error("out of bounds: backlog 1..1e6, rate 0..5000, duration 0..600, runs 1..20")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python " + " ".join(shlex.quote(x) for x in [os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    tmp = Path(tempfile.mkdtemp(prefix="ponte-delivery-", dir=args.tmpdir))
    log(f"temp dir {tmp}")
    if args.trace:
        Path(args.trace).mkdir(parents=True, exist_ok=True)
    receiver = Receiver(tmp)
    bodies = Bodies()
    try:
        starts = cold_starts(args, tmp, receiver)
        if starts:
            log("cold starts: " + ", ".join(f"{s['startup_s'] * 1000:.0f} ms" for s in starts))
        runs = []
        for i in range(1, args.runs + 1):
            run_dir = tmp / f"run{i}"
            run_dir.mkdir()
            r = one_run(args, i, run_dir, receiver, bodies)
            r["steady_seconds"] = args.warmup + args.duration
            runs.append(r)
        if args.profile:
            out = Path(args.profile)
            out.mkdir(parents=True, exist_ok=True)
            run_dir = tmp / "profiled"
            run_dir.mkdir()
            log(f"profiled run (py-spy, not counted) -> {out}")
            prof = one_run(args, 0, run_dir, receiver, bodies, profile=out)
            (out / "profiled-run.json").write_text(json.dumps(prof, indent=2, default=str))
        report = {
            "command": command, "machine": machine(), "filesystem": fs_type(tmp),
            "args": vars(args), "cold_starts": starts, "runs": runs,
            "summary": summarize(runs, starts),
        }
        print(json.dumps(report, indent=2, default=str) if args.json else text_report(report))
        bad = [r for r in runs if r["exit_code"] != 0 or r["drain_duplicates"]]
        return 1 if bad else 0
    finally:
        receiver.close()
        drop_schemas()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
