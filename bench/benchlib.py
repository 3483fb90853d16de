"""Helpers shared by the benchmark scripts (ingest, delivery, alertmanager).

Processes (start, readiness, CPU, memory, stop), the local receiver, statistics and the
machine description. Every wait is bounded; every address is 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RECEIVER = BENCH / "delivery_receiver.py"
TICK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- tiny blocking HTTP client (control plane only, never the load) -----------------------


def http_call(port: int, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def http_json(port: int, method: str, path: str, data: Any = None,
              headers: dict[str, str] | None = None, timeout: float = 10.0) -> Any:
    body = None if data is None else json.dumps(data).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    status, raw = http_call(port, method, path, body, hdrs, timeout)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {status}: {raw[:300]!r}")
    return json.loads(raw) if raw.strip() else None


# --- processes -----------------------------------------------------------------------------


def wait_ready(proc: subprocess.Popen[bytes], port: int, path: str, timeout: float = 30.0,
               started: float | None = None) -> float:
    """Seconds from ``started`` (default: now) until GET ``path`` answers 200."""
    started = time.perf_counter() if started is None else started
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before it was ready")
        try:
            status, _ = http_call(port, "GET", path, timeout=1)
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"not ready after {timeout}s ({path})")


def _stat(path: Path) -> list[str]:
    """The fields of a ``/proc/…/stat`` file after the command name (utime is [11], stime [12])."""
    return path.read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = _stat(Path(f"/proc/{pid}/stat"))
    return (int(fields[11]) + int(fields[12])) / TICK


def sys_seconds(pid: int) -> float:
    """stime of a process (all its threads): the kernel's share of ``cpu_seconds``."""
    return int(_stat(Path(f"/proc/{pid}/stat"))[12]) / TICK


def system_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores; idle and iowait excluded)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


class Foreign:
    """CPU used on this machine by processes outside the benchmark, over one phase.

    Other sessions may share the machine: a phase where foreign CPU is not near zero was
    measured on a busy machine, and the report says so instead of hiding it.
    """

    def __init__(self, pids: list[int], probe_dir: Path | None = None) -> None:
        self.pids = pids
        self.probe = FsyncProbe(probe_dir) if probe_dir is not None else None
        self.procs0 = _all_processes()
        self.busy0 = system_busy()
        self.ours0 = sum(cpu_seconds(p) for p in pids) + _self_cpu()
        self.t0 = time.perf_counter()

    def done(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.t0
        busy = system_busy() - self.busy0
        ours = sum(cpu_seconds(p) for p in self.pids) + _self_cpu() - self.ours0
        mine = {os.getpid(), *self.pids}
        top = []
        for pid, (name, cpu) in _all_processes().items():
            before = self.procs0.get(pid, (name, 0.0))[1] if pid in self.procs0 else 0.0
            if pid not in mine and cpu - before >= 0.1 * wall:
                top.append(f"{name}:{(cpu - before) / wall:.2f}")
        out: dict[str, Any] = {"foreign_cores": round(max(0.0, busy - ours) / wall, 2),
                               "machine_busy_cores": round(busy / wall, 2), "busiest_others": top[:5]}
        if self.probe is not None:
            out["fsync_probe_ms"] = self.probe.stop()
        return out


class FsyncProbe:
    """A 4 KiB write + fsync every 100 ms on the database's file system, from a thread.

    If the disk stalls (another tenant flushing), this probe's worst fsync shows it: a
    latency spike in Ponte that coincides with a slow probe fsync is the disk's, not Ponte's.
    """

    def __init__(self, directory: Path) -> None:
        import threading

        self.path = directory / ".fsync-probe"
        self.times: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for _ in range(36_000):  # bounded: one hour at 10/s
                if self._stop.wait(0.1):
                    break
                os.pwrite(fd, b"x" * 4096, 0)
                t = time.perf_counter()
                os.fsync(fd)
                self.times.append((time.perf_counter() - t) * 1000)
        finally:
            os.close(fd)
            self.path.unlink(missing_ok=True)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join(5)
        v = sorted(self.times)
        if not v:
            return {}
        return {"n": len(v), "p50": round(v[len(v) // 2], 2), "max": round(v[-1], 2)}


def _all_processes() -> dict[int, tuple[str, float]]:
    """pid -> (command name, CPU seconds) for every process that can be read."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        out[int(entry.name)] = (head.split("(", 1)[1][:20], (int(fields[11]) + int(fields[12])) / TICK)
    return out


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (utime + stime) of each thread of a process, by thread id."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = _stat(task / "stat")
        except OSError:
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def thread_names(pid: int) -> dict[int, str]:
    """Python thread names by thread id, from ``py-spy dump`` when py-spy is installed."""
    import re
    import shutil

    exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    names = {pid: "MainThread"}
    if exe is None:
        return names
    done = subprocess.run([exe, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30,
                          check=False)
    for m in re.finditer(r'^Thread (\d+) \(\w+\): "([^"]+)"', done.stdout, re.MULTILINE):
        names[int(m[1])] = m[2]
    return names


def thread_delta(before: dict[int, float], after: dict[int, float], names: dict[int, str]) -> dict[str, float]:
    """CPU seconds per thread between two ``thread_cpu`` readings, by name (unknown: the tid)."""
    out: dict[str, float] = {}
    for tid, cpu in after.items():
        name = names.get(tid, f"tid-{tid}")
        out[name] = round(out.get(name, 0.0) + cpu - before.get(tid, 0.0), 2)
    return out


def memory(pid: int) -> dict[str, int]:
    """VmHWM (peak RSS) and VmRSS, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:", "Threads:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


def stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> float:
    """SIGTERM this process (only it) and wait; seconds the shutdown took."""
    if proc.poll() is not None:
        return 0.0
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise RuntimeError(f"pid {proc.pid} did not stop within {timeout}s of SIGTERM") from None
    return time.perf_counter() - started


class Receiver:
    """``bench/delivery_receiver.py`` in its own process."""

    def __init__(self, run_dir: Path) -> None:
        self.port = free_port()
        self.log_path = run_dir / "receiver.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(RECEIVER), "--host", HOST, "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True)
        wait_ready(self.proc, self.port, "/count")

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def count(self, prefix: str = "") -> dict[str, int]:
        return http_json(self.port, "GET", "/count" + (f"?prefix={prefix}" if prefix else ""))

    def results(self) -> dict[str, Any]:
        return http_json(self.port, "GET", "/results", timeout=120)

    def reset(self) -> None:
        http_json(self.port, "POST", "/reset")

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def close(self) -> None:
        try:
            stop(self.proc)
        finally:
            self._log.close()


# --- statistics ------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an already sorted list."""
    if not sorted_values:
        return float("nan")
    import math

    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def latency_stats(values_ms: list[float]) -> dict[str, float]:
    v = sorted(values_ms)
    return {"n": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90),
            "p99": percentile(v, 99), "p999": percentile(v, 99.9), "max": v[-1] if v else float("nan"),
            "mean": statistics.fmean(v) if v else float("nan")}


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def fmt_spread(s: dict[str, float], fmt: str = "{:.0f}") -> str:
    return f"{fmt.format(s['min'])} / {fmt.format(s['median'])} / {fmt.format(s['max'])}"


def per_second_windows(arrivals_ns: list[int]) -> list[int]:
    """How many arrivals fell into each whole second after the first one."""
    if not arrivals_ns:
        return []
    first = min(arrivals_ns)
    buckets: dict[int, int] = {}
    for a in arrivals_ns:
        k = (a - first) // 1_000_000_000
        buckets[k] = buckets.get(k, 0) + 1
    return [buckets.get(k, 0) for k in range(max(buckets) + 1)]


# --- the machine ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    out: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        import aiohttp

        out["aiohttp"] = aiohttp.__version__
    except ImportError:
        pass
    return out


def fs_type(path: Path) -> str:
    best, kind = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        mount = parts[1]
        if str(path).startswith(mount) and len(mount) > len(best):
            best, kind = mount, f"{parts[2]} ({parts[0]} on {mount})"
    return kind


# --- storage: SQLite file or a PostgreSQL schema per run -----------------------------------

_SCHEMAS: list[tuple[str, str]] = []  # (server, schema) made by this run, dropped at the end


def drop_schemas() -> None:
    """Drop the PostgreSQL schemas this run made."""
    import psycopg

    for server, schema in _SCHEMAS:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def store_url(store: str, db: Path) -> str:
    """``sqlite``: a file in the run dir; a postgresql:// URL: a new schema on that server."""
    if store == "sqlite":
        return f"sqlite:///{db}"
    import uuid

    import psycopg

    schema = f"ponte_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(store, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    _SCHEMAS.append((store, schema))
    return f"{store}{'&' if '?' in store else '?'}options=-csearch_path%3D{schema}"


def connect(url: str) -> Any:
    """A read connection to the run's database (sqlite3 or psycopg; both have execute)."""
    if url.startswith("sqlite:///"):
        return sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)
    import psycopg

    return psycopg.connect(url, autocommit=True)
