"""Crash: SIGKILL a real ``ponte serve`` while digests close; nothing lost, nothing twice.

The service runs on a clock the test moves (``PONTE_CLOCK_OFFSET_FILE``): groups become
due while a burst is still arriving and the kill lands in the middle. After the restart
every acknowledged event is in exactly one digest. A digest delivery itself may arrive
twice (the crash window of any delivery), always with the same items and the same id.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from failkit import Ponte, Receiver, free_port, post_event, query, until, write_config

pytestmark = pytest.mark.slow
EVENTS = 240
KILL_AFTER = 160


def sale(i: int) -> bytes:
    """A small paid invoice with id ev-<i>."""
    return json.dumps(
        {
            "id": f"ev-{i}",
            "event": "myeduzz.invoice_paid",
            "data": {"id": f"inv-{i}", "paid": {"currency": "BRL", "value": 10 + i}},
        }
    ).encode()


async def send(
    url: str, ids: range, acked: dict[int, int], proc: Ponte | None = None, offset_file=None
) -> None:
    """Send ``ids`` one by one; move the clock every 40 answers; kill after KILL_AFTER."""
    async with aiohttp.ClientSession() as http:
        for i in ids:
            try:
                status, payload = await post_event(http, url, sale(i), timeout=10)
            except (TimeoutError, aiohttp.ClientError):
                return
            if status == 200 and payload is not None:
                acked[i] = payload["event_id"]
            if offset_file is not None and len(acked) % 40 == 0:
                offset_file.write_text(str(float(offset_file.read_text()) + 200))  # groups fall due
                await asyncio.sleep(1.1)  # one scheduler pass
            if proc is not None and len(acked) == KILL_AFTER:
                proc.kill()
                return


async def test_a_crash_while_digests_close_loses_and_duplicates_no_item(tmp_path, monkeypatch):
    """Kill -9 mid-burst with digests closing; restart; each event is in exactly one digest."""
    offset = tmp_path / "clock-offset"
    offset.write_text("0")
    monkeypatch.setenv("PONTE_CLOCK_OFFSET_FILE", str(offset))
    receiver = Receiver()
    hook = await receiver.start()
    port = free_port()
    sinks = {"crm": {"type": "webhook", "url": hook}}
    routes = [
        {
            "name": "vendas",
            "events": ["myeduzz.*"],
            "to": [{"sink": "crm", "digest": {"wait": "30s", "interval": "1m", "max_items": 5}}],
        }
    ]
    config = write_config(
        tmp_path,
        port,
        sinks=sinks,
        routes=routes,
        delivery={"retry_schedule": ["200ms"], "max_attempts": 50},
    )
    db = tmp_path / "ponte.db"
    first = Ponte(tmp_path, config, port, stderr_name="first.log").start()
    second: Ponte | None = None
    acked: dict[int, int] = {}
    try:
        await first.wait_ready()
        await send(first.url, range(EVENTS), acked, first, offset)
        assert first.proc is not None and first.proc.returncode == -9
        second = Ponte(tmp_path, config, port, stderr_name="second.log").start()
        await second.wait_ready()
        await send(second.url, range(EVENTS), acked)  # Eduzz resends; stored ones are duplicates
        assert len(acked) == EVENTS

        def settled() -> bool:
            offset.write_text(str(float(offset.read_text()) + 100))
            rows = dict(query(db, "SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
            return rows.get("digested") == EVENTS and set(rows) == {"digested", "succeeded"}

        await until(settled, 60, "every event digested and every digest sent")
        by_digest: dict[str, set[str]] = {}
        for body in receiver.bodies:
            doc = json.loads(body)
            assert doc["event"] == "ponte.digest"
            ids = {item["external_id"] for item in doc["data"]["items"]}
            assert (
                by_digest.setdefault(doc["id"], ids) == ids
            )  # a resent digest carries the same items
        counts = {
            row[0]: row[1]
            for row in query(
                db,
                "SELECT digest_id, COUNT(*) FROM deliveries WHERE status = 'digested' "
                "GROUP BY digest_id",
            )
        }
        assert sum(counts.values()) == EVENTS  # every event in one digest, none in two
        per_event = query(
            db,
            "SELECT COUNT(DISTINCT digest_id) FROM deliveries WHERE status = 'digested' "
            "GROUP BY event_id",
        )
        assert {row[0] for row in per_event} == {1}
        listed = sum(min(5, n) for n in counts.values())
        assert sum(len(ids) for ids in by_digest.values()) == listed
        assert second.terminate() == 0
        assert "Traceback" not in second.stderr()
    finally:
        first.kill()
        if second is not None:
            second.kill()
        await receiver.stop()
    print(
        f"\n[digest crash] digests={len(counts)} received={len(receiver.bodies)} "
        f"distinct={len(by_digest)}"
    )


async def test_a_summary_through_ponte_serve_comes_once_across_a_crash(tmp_path, monkeypatch):
    """ponte serve on a moved clock: the summary arrives once, after kill -9."""
    from datetime import datetime, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    offset = tmp_path / "clock-offset"
    offset.write_text("0")
    monkeypatch.setenv("PONTE_CLOCK_OFFSET_FILE", str(offset))
    receiver = Receiver()
    hook = await receiver.start()
    port = free_port()
    at = (datetime.now(ZoneInfo("America/Sao_Paulo")) + timedelta(hours=2)).strftime("%H:%M")
    reports = [{"name": "resumo", "every": "day", "at": at, "to": ["crm"]}]
    # acme.* events are digested at once: a digest arriving proves a full scheduler pass ran
    probe = [
        {
            "name": "probe",
            "events": ["acme.*"],
            "to": [{"sink": "crm", "digest": {"wait": "0s", "interval": "1s"}}],
        }
    ]
    config = write_config(
        tmp_path,
        port,
        sinks={"crm": {"type": "webhook", "url": hook}},
        routes=probe,
        reports=reports,
    )
    first = Ponte(tmp_path, config, port, stderr_name="first.log").start()
    second: Ponte | None = None
    try:
        await first.wait_ready()
        await until(
            lambda: query(tmp_path / "ponte.db", "SELECT COUNT(*) FROM report_runs")[0][0],
            10,
            "the new report noted its first period",
        )
        values = [10 + i * 1.25 for i in range(30)]
        async with aiohttp.ClientSession() as http:
            for i, value in enumerate(values):
                body = json.dumps(
                    {
                        "id": f"ev-{i}",
                        "event": "myeduzz.invoice_paid",
                        "data": {"paid": {"currency": "BRL", "value": value}},
                    }
                ).encode()
                assert (await post_event(http, first.url, body))[0] == 200
        offset.write_text(str(2 * 3600 + 120))
        sent = (
            "SELECT COUNT(*) FROM deliveries d JOIN events e ON e.id = d.event_id "
            "WHERE e.event = 'ponte.report' AND d.status = 'succeeded'"
        )
        await until(lambda: query(tmp_path / "ponte.db", sent)[0][0], 15, "the summary was sent")
        first.kill()  # a resend of a delivery not yet recorded is not what this test is about
        second = Ponte(tmp_path, config, port, stderr_name="second.log").start()
        await second.wait_ready()
        async with aiohttp.ClientSession() as http:
            probe_body = json.dumps({"id": "probe", "event": "acme.ping", "data": {}}).encode()
            assert (await post_event(http, second.url, probe_body))[0] == 200
        kinds = lambda: [json.loads(b)["event"] for b in receiver.bodies]  # noqa: E731
        await until(
            lambda: "ponte.digest" in kinds(), 15, "a full scheduler pass after the restart"
        )
        assert kinds().count("ponte.report") == 1
        summary = json.loads(receiver.bodies[0])["data"]["summary"]
        assert summary["paid"]["count"] == len(values)
        assert Decimal(summary["paid"]["amounts"]["BRL"]) == sum(Decimal(str(v)) for v in values)
        assert query(tmp_path / "ponte.db", "SELECT COUNT(*) FROM report_runs")[0][0] == 2
        assert second.terminate() == 0
    finally:
        first.kill()
        if second is not None:
            second.kill()
        await receiver.stop()
