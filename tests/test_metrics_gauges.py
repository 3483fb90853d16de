"""/metrics through the real app: idle sinks at 0, dead letters per sink, refused reloads, no _created."""

from __future__ import annotations

import json

import yaml
from prometheus_client.parser import text_string_to_metric_families

from conftest import base_config, post_signed
from service.config.settings import load_settings
from test_delivery import Endpoint, db, serve, wait_for

TOKEN = "metrics-token"


async def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    text = await (await client.get("/metrics")).text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_idle_sinks_report_zero_backlog_and_zero_dead_letters(settings_for, start):
    """A configured sink with nothing waiting is a 0, not a missing series."""
    client = await start(settings_for())
    samples = await scrape(client)
    sink = (("sink", "arquivo"),)
    assert samples[("ponte_backlog", sink)] == 0
    assert samples[("ponte_backlog_oldest_seconds", sink)] == 0
    assert samples[("ponte_dead_letters", sink)] == 0


async def test_dead_letters_are_counted_per_sink(tmp_path, settings_for, start, aiohttp_server):
    """A delivery that fails for good shows in ponte_dead_letters for its sink only."""
    url = await serve(aiohttp_server, Endpoint([400]))
    sinks = {"crm": {"type": "webhook", "url": url}, "arquivo": {"type": "file", "path": str(tmp_path / "o.jsonl")}}
    routes = [{"name": "all", "events": ["*"], "to": ["crm", "arquivo"]}]
    delivery = {"max_attempts": 2, "retry_schedule": ["50ms"], "timeout": "2s"}
    client = await start(settings_for(sinks=sinks, routes=routes, delivery=delivery), worker=True)
    await post_signed(client, json.dumps({"id": "d1", "event": "acme.x", "data": {}}).encode())
    await wait_for(lambda: sorted(db(tmp_path, "SELECT sink, status FROM deliveries"))
                   == [("arquivo", "succeeded"), ("crm", "failed")])
    samples = await scrape(client)
    assert samples[("ponte_dead_letters", (("sink", "crm"),))] == 1
    assert samples[("ponte_dead_letters", (("sink", "arquivo"),))] == 0
    assert samples[("ponte_backlog", (("sink", "crm"),))] == 0


async def test_refused_reloads_are_counted(tmp_path, start):
    """Each refused reload adds one to ponte_config_reloads_refused_total; the old config stays."""
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(base_config(tmp_path, server={"admin_token": TOKEN})))
    client = await start(load_settings(str(path)))
    assert (await scrape(client))[("ponte_config_reloads_refused_total", ())] == 0
    path.write_text("sources: {}\nroutes: 3\n")
    for _ in range(2):
        resp = await client.post("/api/reload", headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status == 422
    assert (await scrape(client))[("ponte_config_reloads_refused_total", ())] == 2


async def test_no_created_series(tmp_path, settings_for, start):
    """Counters and histograms expose no ``*_created`` samples."""
    client = await start(settings_for(), worker=True)
    await post_signed(client, json.dumps({"id": "c1", "event": "acme.x", "data": {}}).encode())
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)])
    text = await (await client.get("/metrics")).text()
    assert "ponte_delivery_attempts_total{" in text and "ponte_attempt_seconds_bucket{" in text
    assert "_created" not in text


async def test_event_labels_are_catalogue_names_or_other(settings_for, start):
    """Each signed made-up name adds no series: they all count as ``other``."""
    client = await start(settings_for())
    for i in range(30):
        body = json.dumps({"id": f"x{i}", "event": f"acme.made_up_{i}", "data": {}}).encode()
        assert (await post_signed(client, body)).status == 200
    await post_signed(client, json.dumps({"id": "p1", "event": "myeduzz.invoice_paid", "data": {}}).encode())
    await post_signed(client, json.dumps({"id": "p2", "event": "invoice_paid", "data": {}}).encode())
    received = {dict(labels)["event"]: value for (name, labels), value in (await scrape(client)).items()
                if name == "ponte_events_received_total"}
    assert received == {"other": 30, "myeduzz.invoice_paid": 2}
