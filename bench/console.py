"""How fast the console's pages answer over a big database (default: 1 million events).

    .venv/bin/python bench/console.py [--events 1000000] [--db PATH] [--runs 20]

Fills a SQLite file through Ponte's own schema (two deliveries per event, 1 in 50 failed,
1 in 200 pending), serves the real app on 127.0.0.1 (no worker), logs in through the form
and times each page with a plain HTTP client. Prints median and p95 per page, and the
machine. Reuses an existing --db file with the same number of events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import machine  # noqa: E402 - after sys.path
from service.app import create_app  # noqa: E402 - after sys.path
from service.config.load import parse_config  # noqa: E402 - after sys.path
from service.config.settings import build_settings  # noqa: E402 - after sys.path
from service.store.sqlite.store import SQLiteStore  # noqa: E402 - after sys.path

TOKEN = "bench-token"
EVENTS = ("myeduzz.invoice_paid", "myeduzz.invoice_opened", "myeduzz.invoice_refunded",
          "nutror.enrollment_created", "alpaclass.student_created")


def _body(i: int, event: str) -> bytes:
    doc = {"id": f"ev{i:09d}", "event": event, "sentDate": "2026-11-25T10:00:00.000Z",
           "data": {"id": str(10_000_000 + i), "buyer": {"name": f"Comprador {i}",
                    "email": f"comprador{i}@example.com", "cellphone": "+55 11 99999-0000"},
                    "price": {"currency": "BRL", "value": 97 + i % 900}}}
    return json.dumps(doc).encode()


async def fill(path: str, count: int) -> None:
    """Create the schema with Ponte's store, then insert ``count`` events in one transaction."""
    store = SQLiteStore(path)
    await store.open()
    await store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    have = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    if have == count:
        return
    if have:
        raise SystemExit(f"{path} holds {have} events, not {count}: pass another --db")
    start, now = time.time(), time.time()
    conn.execute("BEGIN")
    for first in range(0, count, 10_000):
        events, deliveries = [], []
        for i in range(first, min(count, first + 10_000)):
            event = EVENTS[i % len(EVENTS)]
            received = now - (count - i) * (30 * 86400 / count)  # spread over 30 days
            events.append((i + 1, "eduzz", f"ev{i:09d}", event, None, received, "accepted", "{}", None,
                           _body(i, event)))
            failed = "failed" if i % 50 == 0 else ("pending" if i % 200 == 1 else "succeeded")
            deliveries += [(2 * i + 1, i + 1, "crm", "vendas", failed, received, received, received,
                            "HTTP 500" if failed == "failed" else None),
                           (2 * i + 2, i + 1, "arquivo", "vendas", "succeeded", received, received, received,
                            None)]
        conn.executemany("INSERT INTO events (id, source, external_id, event, sent_date, received_at, "
                         "status, headers, schema_error, body) VALUES (?,?,?,?,?,?,?,?,?,?)", events)
        conn.executemany("INSERT INTO deliveries (id, event_id, sink, route, status, next_attempt_at, "
                         "created_at, updated_at, last_error) VALUES (?,?,?,?,?,?,?,?,?)", deliveries)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    print(f"filled {count:,} events in {time.time() - start:.0f} s", file=sys.stderr)


def settings(path: str, tmp: Path):  # type: ignore[no-untyped-def]
    raw = {"server": {"admin_token": TOKEN}, "storage": {"url": f"sqlite:///{path}"},
           "sources": {"eduzz": {"type": "eduzz", "secrets": ["x"]}},
           "sinks": {"crm": {"type": "webhook", "url": "http://127.0.0.1:9/"},
                     "arquivo": {"type": "file", "path": str(tmp / "out.jsonl")}},
           "routes": [{"name": "vendas", "events": ["*"], "to": ["crm", "arquivo"]}]}
    return build_settings(parse_config(raw, env={}))


async def measure(path: str, count: int, runs: int) -> dict[str, tuple[float, float]]:
    runner = web.AppRunner(create_app(settings(path, Path(path).parent), worker=False))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    middle = count // 2
    pages = {
        "painel /ui/": "/ui/",
        "eventos (first page)": "/ui/eventos",
        "eventos (page at the middle)": f"/ui/eventos?cursor={middle}",
        "eventos event=myeduzz.invoice_*": "/ui/eventos?event=myeduzz.invoice_%2A",
        "eventos external_id": f"/ui/eventos?external_id=ev{middle:09d}",
        "eventos since=24h": "/ui/eventos?since=24h",
        "eventos status=failed (scan)": "/ui/eventos?status=failed",
        "eventos e-mail (scan)": f"/ui/eventos?email=comprador{count - 7}%40example.com",
        "evento (one event)": f"/ui/eventos/{middle}",
        "falhas": "/ui/falhas",
        "destinos": "/ui/destinos",
    }
    out = {}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        form = await (await http.get(f"{base}/ui/login")).text()
        token = re.search(r'name="form_token" value="([^"]+)"', form)
        assert token is not None
        await http.post(f"{base}/ui/login", data={"password": TOKEN, "form_token": token.group(1)})
        for label, path_qs in pages.items():
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                async with http.get(base + path_qs) as resp:
                    await resp.read()
                    assert resp.status == 200, (label, resp.status)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            out[label] = (statistics.median(times), times[int(len(times) * 0.95) - 1])
    await runner.cleanup()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/ponte-console-bench.db")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(fill(args.db, args.events))
    results = asyncio.run(measure(args.db, args.events, args.runs))
    print(f"{args.events:,} events, {args.runs} requests per page; {machine()}")
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8}")
    for label, (median, p95) in results.items():
        print(f"{label:40} {median:10.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
