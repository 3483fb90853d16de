"""``ponte serve`` with timing probes, for finding where delivery time goes (diagnosis only).

    python bench/delivery_trace.py OUT.json|- serve --config PATH [--host ... --port ...]
    PONTE_BENCH_EXPERIMENTS=gc_freeze,claim_index python bench/delivery_trace.py - serve ...

Runs the real ``service.__main__.main`` in this process after wrapping, *from outside*
(no file under service/ is changed):

- ``Writer._commit``: per batch, its start and duration, the number of jobs, the kind of
  each job (claim / record / ingest / other) and how long ``COMMIT`` itself took;
- ``Writer.run``: per job, the time from submission until its future resolved;
- ``SQLiteStore.claim_due``: per call, how long it took and how many deliveries it returned;
- the event loop: a probe task that sleeps 1 ms and records how late it woke up;
- the garbage collector: every collection's generation and duration (``gc.callbacks``).

Records are tuples of numbers and strings, which the collector stops tracking, so the
probes do not inflate the collections they measure. On exit (SIGTERM) the records go to
OUT.json (``-``: no probes at all, experiments only);
``--summary`` on that file prints a digest:

    python bench/delivery_trace.py --summary OUT.json
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

REC: dict[str, list[Any]] = {"batches": [], "jobs": [], "claims": [], "loop_lag": [], "gc": []}
_GC_START: list[float] = [0.0]


def _gc_callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _GC_START[0] = time.perf_counter()
    else:
        gen = info.get("generation")
        tracked = len(__import__("gc").get_objects()) if gen == 2 else None
        REC["gc"].append((_GC_START[0], time.perf_counter() - _GC_START[0], gen, info.get("collected"),
                          tracked))


def _kind(job: Any) -> str:
    name = getattr(job, "__qualname__", "")
    for key, kind in (("claim_due", "claim"), ("record_attempt", "record"), ("save_event", "ingest"),
                      ("set_sink_disabled", "sink"), ("recover", "recover")):
        if key in name:
            return kind
    return name or "other"


def install() -> None:
    from service.store.sqlite import store as store_sqlite
    from service.store.sqlite import writer as w

    def _commit(self: Any, jobs: list[Any]) -> list[tuple[bool, Any]]:
        conn = self._conn
        t0 = time.perf_counter()
        try:
            conn.execute("BEGIN IMMEDIATE")
            outcomes = [w._run_job(conn, job) for job in jobs]
            t1 = time.perf_counter()
            conn.execute("COMMIT")
        except w.sqlite3.Error as exc:
            w._rollback(conn)
            return [(False, w._wrap(exc))] * len(jobs)
        t2 = time.perf_counter()
        kinds: dict[str, int] = {}
        for job in jobs:
            k = _kind(job)
            kinds[k] = kinds.get(k, 0) + 1
        REC["batches"].append((t0, t1 - t0, t2 - t1, len(jobs), tuple(sorted(kinds.items()))))
        return outcomes

    original_run = w.Writer.run

    async def run(self: Any, job: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await original_run(self, job, **kwargs)
        finally:
            REC["jobs"].append((t0, time.perf_counter() - t0, _kind(job)))

    original_claim = store_sqlite.SQLiteStore.claim_due

    async def claim_due(self: Any, sink: str, now: float, limit: int, ordered: bool) -> Any:
        t0 = time.perf_counter()
        out = await original_claim(self, sink, now, limit, ordered)
        REC["claims"].append((t0, time.perf_counter() - t0, limit, len(out)))
        return out

    original_start = w.Writer.start

    async def start(self: Any) -> None:
        await original_start(self)
        asyncio.get_running_loop().create_task(_lag_probe())

    import gc

    gc.callbacks.append(_gc_callback)
    w.Writer._commit = _commit  # type: ignore[method-assign]
    w.Writer.run = run  # type: ignore[method-assign]
    w.Writer.start = start  # type: ignore[method-assign]
    store_sqlite.SQLiteStore.claim_due = claim_due  # type: ignore[method-assign]


async def _lag_probe() -> None:
    for _ in range(10_000_000):  # bounded: ~3 h at 1 ms
        t0 = time.perf_counter()
        await asyncio.sleep(0.001)
        REC["loop_lag"].append((t0, time.perf_counter() - t0 - 0.001))


# --- experiments: candidate fixes tried from outside, to measure what they would buy ----------------

EXPERIMENTS = {
    "gc_freeze": "gc.freeze() once the worker has started: start-up objects leave the collector's view",
    "claim_index": "an expression index (sink, status, (tries > 0), next_attempt_at, id) that the claim "
                   "query uses (INDEXED BY): no sort of the whole backlog per claim",
    "smart_wake": "a finished delivery wakes the worker only if its lane's last claim was full "
                  "(new events still wake it from ingest): no empty claim transactions",
}


def install_experiments(names: list[str]) -> None:
    from service.delivery import worker as worker_mod
    from service.store.sqlite import store as store_sqlite
    from service.store.sqlite import writer as w

    unknown = set(names) - set(EXPERIMENTS)
    if unknown:
        raise SystemExit(f"unknown experiments: {sorted(unknown)} (known: {sorted(EXPERIMENTS)})")
    if "gc_freeze" in names:
        import gc

        original_start = worker_mod.Worker.start

        async def start(self: Any) -> None:
            await original_start(self)
            gc.collect()
            gc.freeze()

        worker_mod.Worker.start = start  # type: ignore[method-assign]
    if "claim_index" in names:
        store_sqlite._CLAIM = store_sqlite._CLAIM.replace(
            "FROM deliveries d\n", "FROM deliveries d INDEXED BY deliveries_claim\n")
        assert "INDEXED BY" in store_sqlite._CLAIM
        original_connect = store_sqlite.SQLiteStore._connect

        def connect(self: Any) -> Any:
            conn = original_connect(self)
            conn.execute("CREATE INDEX IF NOT EXISTS deliveries_claim ON deliveries "
                         "(sink, status, (tries > 0), next_attempt_at, id)")
            return conn

        store_sqlite.SQLiteStore._connect = connect  # type: ignore[method-assign]
    if "smart_wake" in names:
        full: dict[str, bool] = {}
        original_claim = store_sqlite.SQLiteStore.claim_due

        async def claim_due(self: Any, sink: str, now: float, limit: int, ordered: bool) -> Any:
            out = await original_claim(self, sink, now, limit, ordered)
            full[sink] = len(out) >= limit
            return out

        def done(self: Any, lane: Any, task: Any) -> None:
            lane.inflight -= 1
            lane.tasks.discard(task)
            if full.get(lane.name, True) or self._stopping.is_set():
                self.wake.set()

        store_sqlite.SQLiteStore.claim_due = claim_due  # type: ignore[method-assign]
        worker_mod.Worker._done = done  # type: ignore[method-assign]
    _ = w


def _pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q / 100 * len(v)))] if v else float("nan")


def summary(path: str, since: float | None = None, until: float | None = None) -> None:
    with open(path) as f:
        rec = json.load(f)
    if since is None and "types_at_exit" in rec:
        print(f"tracked objects at exit: {rec['tracked_at_exit']}; top types: {rec['types_at_exit'][:15]}")

    def keep(rows: list[Any]) -> list[Any]:
        return [r for r in rows if (since is None or r[0] >= since) and (until is None or r[0] <= until)]

    batches, jobs, claims, lag, gcs = (keep(rec[k]) for k in ("batches", "jobs", "claims", "loop_lag", "gc"))
    if not batches:
        print("no batches")
        return
    span = batches[-1][0] - batches[0][0]
    busy = sum(b[1] + b[2] for b in batches)
    print(f"writer batches: {len(batches)} over {span:.2f}s; writer busy {busy:.2f}s "
          f"({100 * busy / max(span, 1e-9):.0f}%)")
    print(f"  jobs/batch: mean {statistics.fmean(b[3] for b in batches):.1f}, "
          f"max {max(b[3] for b in batches)}")
    print(f"  batch body ms p50 {1000 * _pct([b[1] for b in batches], 50):.2f} "
          f"p99 {1000 * _pct([b[1] for b in batches], 99):.2f}; COMMIT ms p50 "
          f"{1000 * _pct([b[2] for b in batches], 50):.2f} p99 {1000 * _pct([b[2] for b in batches], 99):.2f}")
    by_kind: dict[str, list[float]] = {}
    for _, took, kind in jobs:
        by_kind.setdefault(kind, []).append(took)
    for kind, v in sorted(by_kind.items()):
        print(f"  job {kind:<8} n={len(v):>6} submit->resolved ms p50 {1000 * _pct(v, 50):.2f} "
              f"p90 {1000 * _pct(v, 90):.2f} p99 {1000 * _pct(v, 99):.2f} max {1000 * max(v):.2f}")
    if claims:
        got = [c[3] for c in claims]
        print(f"claims: {len(claims)} calls, {sum(got)} deliveries; empty {sum(1 for g in got if g == 0)}; "
              f"mean per call {statistics.fmean(got):.1f}; ms p50 {1000 * _pct([c[1] for c in claims], 50):.2f} "
              f"p99 {1000 * _pct([c[1] for c in claims], 99):.2f}")
    for gen in (0, 1, 2):
        v = [g[1] for g in gcs if g[2] == gen]
        if v:
            tracked = [g[4] for g in gcs if g[2] == gen and len(g) > 4 and g[4]]
            print(f"gc gen{gen}: {len(v)} collections, total {1000 * sum(v):.0f} ms, "
                  f"p50 {1000 * _pct(v, 50):.2f} ms, max {1000 * max(v):.2f} ms"
                  + (f", tracked objects after: {tracked}" if tracked else ""))
    if lag:
        v = [x[1] for x in lag]
        print(f"event loop lag (1 ms probe) ms p50 {1000 * _pct(v, 50):.2f} p90 {1000 * _pct(v, 90):.2f} "
              f"p99 {1000 * _pct(v, 99):.2f} max {1000 * max(v):.2f}")


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "--summary":
        since = float(sys.argv[3]) if len(sys.argv) > 3 else None
        until = float(sys.argv[4]) if len(sys.argv) > 4 else None
        summary(sys.argv[2], since, until)
        return 0
    out, argv = sys.argv[1], sys.argv[2:]
    import os

    experiments = [e for e in os.environ.get("PONTE_BENCH_EXPERIMENTS", "").split(",") if e]
    install_experiments(experiments)
    if out == "-":
        from service.__main__ import main as ponte_main

        return ponte_main(argv)
    install()
    from service.__main__ import main as ponte_main

    try:
        return ponte_main(argv)
    finally:
        import collections
        import gc

        objs = gc.get_objects()
        REC["types_at_exit"] = collections.Counter(type(o).__name__ for o in objs).most_common(30)
        REC["tracked_at_exit"] = len(objs)
        with open(out, "w") as f:
            json.dump(REC, f)


if __name__ == "__main__":
    sys.exit(main())
