"""Ingest benchmark: Ponte's request path against a bare aiohttp server, under wrk.

    python bench/ingest.py [--duration 10] [--connections 50] [--threads 2] [--runs 3]
                           [--bodies 80000] [--json] [--keep] [--tmpdir DIR]

Per run, in a fresh temp dir: write a Ponte config (one eduzz source, three *disabled*
sinks, ten routes with globs and ``where`` conditions), pre-sign N distinct bodies made
from the ``myeduzz.invoice_paid`` fixture, start ``ponte serve`` (JSON logs on, to a file),
wait for /readyz, load it with wrk, stop it with SIGTERM and count the events table; then
the same load against ``bench/bare_server.py``. Prints min/median/max of req/s, p50 and
p99 per target and the ratio of the medians (ponte/bare).

The sinks are disabled so the delivery worker never competes for the CPU: this measures
the request path only (verify, decode, route, log, group-committed insert, 200).
Load is on 127.0.0.1 only. Progress goes to stderr; the report to stdout (JSON with --json).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import (
    connect,
    cpu_seconds,
    drop_schemas,
    free_port,
    fs_type,
    memory,
    spread,
    stop,
    store_url,
    system_busy,
)
from benchlib import machine as benchlib_machine

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
FIXTURE = ROOT / "service" / "eduzz" / "fixtures" / "myeduzz.invoice_paid.json"
LUA = BENCH / "wrk_bodies.lua"
BARE = BENCH / "bare_server.py"
SECRET = "bench-secret-0123456789"
SOURCE = "eduzz"
TICK = os.sysconf("SC_CLK_TCK")
# Ponte's virtualenv if there is one (so plain `python bench/ingest.py` works too), else ours.
_VENV = ROOT / ".venv" / "bin"
PYTHON = str(_VENV / "python") if (_VENV / "python").exists() else sys.executable
PONTE = str(Path(PYTHON).parent / "ponte")

CONFIG = """\
# Written by bench/ingest.py. Every sink is disabled: the benchmark measures ingest only.
server:
  host: 127.0.0.1
  port: 8080
  max_body_bytes: 1048576

storage:
  url: "{store}"

sources:
  eduzz:
    type: eduzz
    secrets: ["{secret}"]

sinks:
  arquivo:
    type: file
    path: {out}
    enabled: false
  crm:
    type: webhook
    url: http://127.0.0.1:9/crm
    enabled: false
  financeiro:
    type: webhook
    url: http://127.0.0.1:9/financeiro
    enabled: false
    ordered_by: data.buyer.email

routes:
  - name: vendas-grandes
    events: ["myeduzz.invoice_paid"]
    where:
      data.price.value: {{gte: 100}}
      data.buyer.email: {{not_endswith: "@eduzz.com"}}
    to: [crm, financeiro]
  - name: pix-ou-cartao
    events: ["myeduzz.invoice_*"]
    where:
      any:
        - data.paymentMethod: creditCard
        - data.payment.method: {{in: [pix, bankslip]}}
    to: [financeiro]
  - name: reembolsos
    events: ["myeduzz.invoice_refunded", "myeduzz.invoice_chargeback", "myeduzz.invoice_waiting_refund"]
    to: [financeiro, crm]
  - name: contratos
    events: ["myeduzz.contract_*"]
    where:
      data.contract.status: {{in: [active, suspended]}}
    to: [crm]
  - name: alunos
    events: ["nutror.*", "alpaclass.*"]
    to: [crm]
  - name: afiliados-externos
    events: ["myeduzz.*"]
    where:
      data.affiliate.email: {{exists: true, not_endswith: "@eduzz.com"}}
    to: [crm]
  - name: campanhas
    events: ["*.invoice_paid"]
    where:
      data.utm.campaign: {{regex: "^(black|promo)"}}
    to: [crm]
  - name: order-bump-a-vista
    events: ["*.invoice_paid"]
    where:
      data.orderBump.has: true
      not:
        data.installments: {{gt: 6}}
    to: [financeiro]
  - name: produtos-destaque
    events: ["myeduzz.invoice_*"]
    where:
      all:
        - data.items.0.productId: {{in: [P567, P900]}}
        - data.price.currency: BRL
    to: [crm]
  - name: tudo-no-arquivo
    events: ["*"]
    to: [arquivo]
"""

PAYMENT_METHODS = ["creditCard", "pix", "bankslip", "paypal"]
CAMPAIGNS = ["black-friday", "promo-verao", "lancamento", "organico"]
EMAIL_DOMAINS = ["example.com", "gmail.com", "eduzz.com", "hotmail.com"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- inputs ------------------------------------------------------------------------


def write_bodies(path: Path, count: int, seed: int = 1) -> int:
    """``count`` distinct signed bodies, one ``<sig> <compact json>`` line each; returns bytes."""
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))
    rnd = random.Random(seed)
    total = 0
    with path.open("wb") as f:
        for i in range(count):
            doc = json.loads(json.dumps(base))
            data = doc["data"]
            doc["id"] = f"bench{i:08d}{rnd.getrandbits(40):010x}"
            doc["sentDate"] = f"2024-01-20T15:{(i // 60) % 60:02d}:{i % 60:02d}.000Z"
            data["id"] = str(10_000_000 + i)
            value = round(rnd.uniform(9.9, 990.0), 2)
            data["price"]["value"] = data["paid"]["value"] = value
            data["installments"] = rnd.choice([1, 1, 1, 3, 12])
            data["paymentMethod"] = rnd.choice(PAYMENT_METHODS)
            data["utm"]["campaign"] = rnd.choice(CAMPAIGNS)
            data["buyer"]["email"] = f"buyer{i}@{rnd.choice(EMAIL_DOMAINS)}"
            data["items"][0]["productId"] = rnd.choice(["P567", "P900", "P123"])
            body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
            sig = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            line = sig.encode() + b" " + body + b"\n"
            total += len(body)
            f.write(line)
    # Flush the ~100 MB now: left to writeback, it lands during the first run, and ext4
    # makes that run's fsyncs wait for it (one first run had a p99 of 1.6 s).
    os.sync()
    return total




# --- processes ---------------------------------------------------------------------


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> float:
    """Seconds until GET /readyz answers 200 (raises if the process dies or times out)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                conn.close()
                return time.perf_counter() - started
            conn.close()
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"server not ready after {timeout}s")






def wait_idle(limit: float, threshold: float = 0.10) -> float:
    """Wait (up to ``limit`` s) for a 1-second window with < ``threshold`` of the CPUs busy.

    Other processes on the machine skew a load test; this keeps runs from starting on top
    of them. Returns the seconds waited (``limit`` if the machine never went idle).
    """
    started = time.perf_counter()
    ncpu = os.cpu_count() or 1
    while time.perf_counter() - started < limit:
        b0, t0 = system_busy(), time.perf_counter()
        time.sleep(1.0)
        if (system_busy() - b0) / ((time.perf_counter() - t0) * ncpu) < threshold:
            return round(time.perf_counter() - started, 1)
    return limit






def run_wrk(args: argparse.Namespace, port: int, bodies: Path, log_path: Path) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/webhooks/{SOURCE}"
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
           "--timeout", "10s", "-s", str(LUA), url, "--", str(bodies), str(args.threads)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = system_busy()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    busy1 = system_busy()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    log_path.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    match = re.search(r"^BENCH_RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no BENCH_RESULT in wrk output:\n{done.stdout}")
    res = json.loads(match[1])
    rps = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    res["rps"] = float(rps[1]) if rps else res["requests"] / (res["duration_us"] / 1e6)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    res["non2xx_line"] = int(non2xx[1]) if non2xx else 0
    res["wrk_cpu_s"] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)
    res["system_busy_s"] = round(busy1 - busy0, 2)
    res["wrk_text"] = done.stdout
    return res


def finish(res: dict[str, Any]) -> None:
    """Derived figures: server CPU per request, and CPU used by neither server nor wrk."""
    res["cpu_us_per_req"] = round(res["server_cpu_s"] / max(1, res["requests"]) * 1e6, 1)
    res["other_cpu_s"] = round(res["system_busy_s"] - res["server_cpu_s"] - res["wrk_cpu_s"], 2)


def count_db(store: str) -> dict[str, Any]:
    conn = connect(store)
    try:
        events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM events GROUP BY status").fetchall())
        deliveries = conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
        schema_errors = conn.execute("SELECT COUNT(*) FROM events WHERE schema_error IS NOT NULL").fetchone()[0]
    finally:
        conn.close()
    return {"events": events, "event_status": statuses, "deliveries": deliveries,
            "schema_errors": schema_errors}


def bench_ponte(args: argparse.Namespace, run_dir: Path, bodies: Path, n_bodies: int) -> dict[str, Any]:
    db, out = run_dir / "ponte.db", run_dir / "deliveries.jsonl"
    store = store_url(args.store, db)
    cfg = run_dir / "ponte.yaml"
    cfg.write_text(CONFIG.format(store=store, out=out, secret=SECRET))
    port = free_port()
    cmd = [PONTE, "serve", "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port),
           "--log-format", "json", "--log-level", args.log_level]
    if args.stub:  # a measuring run with parts of the request path switched off
        cmd = [PYTHON, str(BENCH / "stub.py"), "--stub", args.stub, "--", *cmd[1:]]
    stderr_path = run_dir / "ponte.log"
    res_stop = 0.0
    with stderr_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=run_dir, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
        try:
            startup = wait_ready(proc, port)
            startup_total = time.perf_counter() - started
            cpu0 = cpu_seconds(proc.pid)
            res = run_wrk(args, port, bodies, run_dir / "wrk-ponte.txt")
            res["server_cpu_s"] = round(cpu_seconds(proc.pid) - cpu0, 2)
            res.update(memory(proc.pid))
            finish(res)
        finally:
            if proc.poll() is None:
                res_stop = stop(proc)
    res["startup_s"] = round(startup_total, 3)
    res["startup_poll_s"] = round(startup, 3)
    res["shutdown_s"] = round(res_stop, 3)
    res["exit_code"] = proc.returncode
    res["db"] = count_db(store)
    res["log_bytes"] = stderr_path.stat().st_size
    with stderr_path.open("rb") as f:
        res["log_lines"] = sum(1 for _ in f)
    res["beyond_bodies"] = max(0, res["sent"] - n_bodies)
    return res


def bench_bare(args: argparse.Namespace, run_dir: Path, bodies: Path, commit: bool = False) -> dict[str, Any]:
    port = free_port()
    cmd = [PYTHON, str(BARE), "--host", "127.0.0.1", "--port", str(port)]
    if commit:
        cmd += ["--commit", str(run_dir / "commit.db"), "--deliveries", "3"]
    with (run_dir / "bare.log").open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=run_dir, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
        try:
            wait_ready(proc, port)
            startup = time.perf_counter() - started
            cpu0 = cpu_seconds(proc.pid)
            res = run_wrk(args, port, bodies, run_dir / f"wrk-{'commit' if commit else 'bare'}.txt")
            res["server_cpu_s"] = round(cpu_seconds(proc.pid) - cpu0, 2)
            res.update(memory(proc.pid))
            finish(res)
        finally:
            if proc.poll() is None:
                stop(proc)
    res["startup_s"] = round(startup, 3)
    return res


# --- report ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """benchlib's machine facts, with the versions of Ponte's interpreter and wrk's."""
    out = benchlib_machine()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.splitlines()
    versions = subprocess.run(
        [PYTHON, "-c", ("import aiohttp, platform, sqlite3; "
                        "print(platform.python_version(), aiohttp.__version__, sqlite3.sqlite_version)")],
        capture_output=True, text=True, check=True).stdout.split()
    out.update(python=versions[0], aiohttp=versions[1], sqlite=versions[2],
               wrk=wrk_version[0].split(" Copyright")[0] if wrk_version else "?")
    return out


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": spread([r["rps"] for r in results]),
        "p50_ms": spread([r["p50_us"] / 1000 for r in results]),
        "p99_ms": spread([r["p99_us"] / 1000 for r in results]),
        "server_cpu_s": spread([r["server_cpu_s"] for r in results]),
        "wrk_cpu_s": spread([r["wrk_cpu_s"] for r in results]),
        "VmHWM_kib": spread([r["VmHWM"] for r in results]),
        "startup_s": spread([r["startup_s"] for r in results]),
        "cpu_us_per_req": spread([r["cpu_us_per_req"] for r in results]),
        "other_cpu_s": spread([r["other_cpu_s"] for r in results]),
    }


def text_report(report: dict[str, Any]) -> str:
    m, s = report["machine"], report["summary"]
    lines = [
        f"command:  {report['command']}",
        f"machine:  {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}",
        f"software: Python {m['python']}, aiohttp {m['aiohttp']}, SQLite {m['sqlite']}, {m['wrk']}",
        f"storage:  {report['filesystem']}",
        (f"load:     wrk -t{report['threads']} -c{report['connections']} -d{report['duration']}s, "
         f"{report['bodies']} distinct signed bodies (~{report['body_bytes']} B each), {report['runs']} runs"),
        *([f"STUBBED: ponte ran with {report['stub']} switched off (bench/stub.py): not a real run"]
          if report.get("stub") else []),
        "",
        f"{'target':<7} {'':>7} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'CPU us/req':>11}",
    ]
    for target in [t for t in ("ponte", "commit", "bare") if t in s]:
        for k in ("min", "median", "max"):
            lines.append(f"{target if k == 'min' else '':<7} {k:>7} {s[target]['rps'][k]:>10.0f} "
                         f"{s[target]['p50_ms'][k]:>9.2f} {s[target]['p99_ms'][k]:>9.2f} "
                         f"{s[target]['cpu_us_per_req'][k]:>11.0f}")
    lines += [
        "",
        (f"ratio of medians ponte/bare: req/s {report['ratio']['rps']:.2f}, "
         f"p50 {report['ratio']['p50']:.2f}x, p99 {report['ratio']['p99']:.2f}x, "
         f"server CPU per request {report['ratio']['cpu_per_req']:.1f}x"),
        *([f"ratio of medians commit/bare (bare HTTP + Ponte's SQLite store, nothing else): req/s "
           f"{s['commit']['rps']['median'] / s['bare']['rps']['median']:.2f}"] if "commit" in s else []),
        "",
        "per run (ponte):",
    ]
    for i, r in enumerate(report["ponte"], 1):
        db = r["db"]
        lines.append(
            f"  run {i}: {r['rps']:.0f} req/s, 200s {r['status_200']} (accepted {r['accepted']}, "
            f"duplicate {r['duplicate']}), non-2xx {r['non200']}, socket errors "
            f"{r['err_connect'] + r['err_read'] + r['err_write'] + r['err_timeout']}; "
            f"events rows {db['events']} (accepted-and-answered {r['accepted']}, "
            f"committed-unanswered {db['events'] - r['accepted']}), deliveries rows {db['deliveries']}, "
            f"bodies reused {r['beyond_bodies']}; server CPU {r['server_cpu_s']}s "
            f"({r['cpu_us_per_req']:.0f} us/req), wrk CPU {r['wrk_cpu_s']}s, other CPU {r['other_cpu_s']}s; "
            f"VmHWM {r['VmHWM'] / 1024:.1f} MiB; startup {r['startup_s']}s; "
            f"log {r['log_lines']} lines / {r['log_bytes'] / 1e6:.1f} MB; exit {r['exit_code']}"
        )
    lines.append("per run (bare):")
    for i, r in enumerate(report["bare"], 1):
        lines.append(f"  run {i}: {r['rps']:.0f} req/s, 200s {r['status_200']}, non-2xx {r['non200']}, "
                     f"server CPU {r['server_cpu_s']}s ({r['cpu_us_per_req']:.0f} us/req), "
                     f"wrk CPU {r['wrk_cpu_s']}s, other CPU {r['other_cpu_s']}s, "
                     f"VmHWM {r['VmHWM'] / 1024:.1f} MiB")
    sp = s["ponte"]
    lines += [
        "",
        (f"ponte VmHWM (peak RSS) after the run: median {sp['VmHWM_kib']['median'] / 1024:.1f} MiB "
         f"(bare {s['bare']['VmHWM_kib']['median'] / 1024:.1f} MiB)"),
        (f"ponte startup to /readyz 200: median {sp['startup_s']['median'] * 1000:.0f} ms "
         f"(min {sp['startup_s']['min'] * 1000:.0f}, max {sp['startup_s']['max'] * 1000:.0f})"),
        f"durability: {report['durability']}",
    ]
    noisy = [f"{t} run {i}" for t in ("ponte", "bare") for i, r in enumerate(report[t], 1)
             if r["other_cpu_s"] > 0.25 * report["duration"]]
    if noisy:
        lines.append("WARNING: other processes used > 0.25 CPU during " + ", ".join(noisy)
                     + " (\"other CPU\" above also counts loopback softirq work); treat those runs with care")
    return "\n".join(lines)


def durability(results: list[dict[str, Any]]) -> str:
    """Every 200 "accepted" must be a row; rows beyond that were committed after wrk stopped."""
    if results and results[0].get("stub") and "store" in results[0]["stub"]:
        return "not checked: the store was stubbed out (--stub store), nothing was kept"
    bad = [r for r in results if r["db"]["events"] < r["accepted"] or r["exit_code"] != 0]
    if bad:
        return f"FAILED: fewer event rows than accepted 200s (or unclean exit) in {len(bad)} run(s)"
    extra = max(r["db"]["events"] - r["accepted"] for r in results)
    return (f"ok: every accepted 200 is a row in every run (rows - accepted <= {extra}, "
            "requests committed while wrk was closing its connections)")


# --- main --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Ponte ingest benchmark (wrk, loopback only).")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    p.add_argument("--threads", type=int, default=2,
                   help="wrk threads (default 2: measured best for the bare baseline on 2 cores)")
    p.add_argument("--runs", type=int, default=3, help="runs per target (default 3)")
    p.add_argument("--bodies", type=int, default=80000,
                   help="distinct signed bodies; past them requests are duplicates (default 80000)")
    p.add_argument("--log-level", default="info", help="Ponte's --log-level (default info: logging on)")
    p.add_argument("--only", choices=["ponte", "bare", "commit"], help="run one target only")
    p.add_argument("--stub", metavar="PARTS",
                   help="run Ponte with parts stubbed out (bench/stub.py): store,schema,routing,metrics")
    p.add_argument("--commit-baseline", action="store_true",
                   help="also run 'commit': the bare server plus Ponte's SQLite store (event + 3 deliveries)")
    p.add_argument("--wait-idle", type=float, default=60,
                   help="before each target run, wait up to this many seconds for an idle machine")
    p.add_argument("--store", default="sqlite", metavar="sqlite|URL",
                   help="sqlite (default: a file per run) or a postgresql:// server (a new schema per run)")
    p.add_argument("--tmpdir", help="where the temp dir (and Ponte's database) goes")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, DB, wrk output)")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(PONTE).exists():
        print(f"{PONTE} not found: install Ponte in {ROOT}/.venv (pip install -e .)", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print("wrk is not on PATH; install it with:\n  apt-get install -y wrk", file=sys.stderr)
        return 2
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    tmp = Path(tempfile.mkdtemp(prefix="ponte-bench-", dir=args.tmpdir))
    log(f"temp dir {tmp}")
    try:
        bodies = tmp / "bodies.txt"
        body_bytes = write_bodies(bodies, args.bodies)
        log(f"wrote {args.bodies} signed bodies ({body_bytes / 1e6:.1f} MB)")
        results: dict[str, list[dict[str, Any]]] = {"ponte": [], "bare": [], "commit": []}
        targets = [args.only] if args.only else ["ponte", "bare", *(["commit"] if args.commit_baseline else [])]
        for i in range(args.runs):
            order = targets if i % 2 == 0 else list(reversed(targets))
            for target in order:
                run_dir = tmp / f"run{i + 1}-{target}"
                run_dir.mkdir()
                waited = wait_idle(args.wait_idle) if args.wait_idle > 0 else 0.0
                if target == "ponte":
                    r = bench_ponte(args, run_dir, bodies, args.bodies)
                    r["stub"] = args.stub
                    log(f"run {i + 1} ponte: {r['rps']:.0f} req/s p50 {r['p50_us'] / 1000:.2f} ms "
                        f"p99 {r['p99_us'] / 1000:.2f} ms accepted {r['accepted']} dup {r['duplicate']} "
                        f"non200 {r['non200']} rows {r['db']['events']} cpu {r['server_cpu_s']}s")
                else:
                    r = bench_bare(args, run_dir, bodies, commit=target == "commit")
                    log(f"run {i + 1} {target}: {r['rps']:.0f} req/s p50 {r['p50_us'] / 1000:.2f} ms "
                        f"p99 {r['p99_us'] / 1000:.2f} ms cpu {r['server_cpu_s']}s")
                r["waited_idle_s"] = waited
                if not args.keep:
                    r.pop("wrk_text", None)
                results[target].append(r)
        report: dict[str, Any] = {
            "command": command, "machine": machine(), "filesystem": fs_type(tmp),
            "duration": args.duration, "connections": args.connections, "threads": args.threads,
            "runs": args.runs, "bodies": args.bodies, "body_bytes": body_bytes // args.bodies,
            "log_level": args.log_level, "stub": args.stub, "ponte": results["ponte"], "bare": results["bare"],
            "commit": results["commit"],
        }
        for r in results["ponte"] + results["bare"] + results["commit"]:
            r.pop("wrk_text", None)
        report["summary"] = {t: summarize(rs) for t, rs in results.items() if rs}
        if results["ponte"] and results["bare"]:
            sp, sb = report["summary"]["ponte"], report["summary"]["bare"]
            report["ratio"] = {
                "rps": sp["rps"]["median"] / sb["rps"]["median"],
                "p50": sp["p50_ms"]["median"] / sb["p50_ms"]["median"],
                "p99": sp["p99_ms"]["median"] / sb["p99_ms"]["median"],
                "cpu_per_req": sp["cpu_us_per_req"]["median"] / sb["cpu_us_per_req"]["median"],
            }
            report["durability"] = durability(results["ponte"])
            print(json.dumps(report, indent=2) if args.json else text_report(report))
        else:
            print(json.dumps(report, indent=2))
        failed = results["ponte"] and report.get("durability", "").startswith("FAILED")
        return 1 if failed else 0
    finally:
        drop_schemas()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
