"""The admin API through the real app and a real database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pgkit import query

from conftest import fixture_body, post_signed

TOKEN = "admin-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = {"max_attempts": 2, "retry_schedule": ["1h"], "timeout": "1s"}


@pytest.fixture
async def api(settings_for, start, tmp_path):
    """An app with the admin API on, a closed-port webhook sink (it always fails) and no worker."""
    sinks = {"crm": {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
             "arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")}}
    routes = [{"name": "all", "events": ["*"], "to": ["crm", "arquivo"]}]
    settings = settings_for(server={"admin_token": TOKEN}, sinks=sinks, routes=routes, delivery=FAST)
    return await start(settings)


async def ingest(client: Any, n: int = 3) -> list[int]:
    """Send n distinct events; return their ids."""
    ids = []
    for i in range(n):
        body = json.dumps({"id": f"a{i}", "event": "myeduzz.invoice_paid", "data": {"n": i}}).encode()
        ids.append((await (await post_signed(client, body)).json())["event_id"])
    return ids


async def get(client: Any, path: str, **kw: Any) -> Any:
    resp = await client.get(path, headers=AUTH, **kw)
    return resp.status, await resp.json()


async def post(client: Any, path: str, body: Any = None) -> Any:
    resp = await client.post(path, headers=AUTH, json=body)
    return resp.status, await resp.json()


async def test_no_token_configured_means_404(settings_for, start):
    """Without admin_token every /api/ path answers 404 (never open)."""
    client = await start(settings_for())
    for path in ("/api/events", "/api/sinks", "/api/openapi.json"):
        assert (await client.get(path, headers=AUTH)).status == 404
    assert (await client.post("/api/reload", headers=AUTH)).status == 404


async def test_missing_and_wrong_token(api):
    """No token is 401, a wrong one 401 too (RFC 6750 invalid_token)."""
    assert (await api.get("/api/events")).status == 401
    assert (await api.get("/api/events", headers={"Authorization": "Bearer nope"})).status == 401
    assert (await api.get("/api/events", headers={"Authorization": "Basic eA=="})).status == 401


async def test_list_events_with_filters_and_cursor(api):
    """Events list newest first, filter, and page by cursor."""
    ids = await ingest(api, 5)
    status, page = await get(api, "/api/events", params={"limit": "2"})
    assert status == 200 and [e["event_id"] for e in page["items"]] == ids[::-1][:2]
    status, page2 = await get(api, "/api/events", params={"limit": "2", "cursor": page["next"]})
    assert [e["event_id"] for e in page2["items"]] == ids[::-1][2:4]
    _, only = await get(api, "/api/events", params={"external_id": "a3"})
    assert [e["event_id"] for e in only["items"]] == [ids[3]]
    _, glob = await get(api, "/api/events", params={"event": "myeduzz.invoice_*", "since": "1h"})
    assert len(glob["items"]) == 5
    _, none = await get(api, "/api/events", params={"event": "nutror.*"})
    assert none == {"items": [], "next": None}
    first = page["items"][0]
    assert set(first) >= {"event_id", "source", "external_id", "event", "sent_date", "received_at"}


async def test_event_detail_has_body_deliveries_and_attempts(api):
    """An event's detail shows its raw body, its deliveries and their attempts."""
    body = fixture_body("myeduzz.invoice_paid")
    event_id = (await (await post_signed(api, body)).json())["event_id"]
    status, detail = await get(api, f"/api/events/{event_id}")
    assert status == 200
    assert detail["body"] == body.decode()
    assert sorted(d["sink"] for d in detail["deliveries"]) == ["arquivo", "crm"]
    assert all(d["attempts"] == [] and d["status"] == "pending" for d in detail["deliveries"])


async def test_unknown_ids_are_404(api):
    """Unknown ids answer 404 (malformed ones 400: test_admin_http)."""
    for path in ("/api/events/999", "/api/deliveries/999"):
        assert (await get(api, path))[0] == 404
    assert (await get(api, "/api/events/abc"))[0] == 400
    assert (await post(api, "/api/events/999/replay"))[0] == 404
    assert (await post(api, "/api/deliveries/999/retry"))[0] == 404
    assert (await post(api, "/api/sinks/nope/disable"))[0] == 404


async def test_bad_filters_are_400(api):
    """Unknown filters, statuses and times are refused with a reason."""
    assert (await get(api, "/api/deliveries", params={"status": "lost"}))[0] == 400
    assert (await get(api, "/api/events", params={"since": "yesterday-ish"}))[0] == 400
    assert (await get(api, "/api/events", params={"colour": "red"}))[0] == 400


async def test_deliveries_filter_by_status_and_sink(api):
    """Deliveries filter by sink and status."""
    await ingest(api, 2)
    _, page = await get(api, "/api/deliveries", params={"sink": "crm", "status": "pending"})
    assert len(page["items"]) == 2 and {d["sink"] for d in page["items"]} == {"crm"}
    keys = {"id", "event_id", "sink", "route", "status", "attempt_count", "next_attempt_at", "last_error"}
    assert keys <= set(page["items"][0])


async def test_replay_retry_and_bulk_replay(api, tmp_path):
    """Replay an event, retry a delivery, and bulk-replay failed deliveries of a sink."""
    ids = await ingest(api, 3)
    query(tmp_path, "UPDATE deliveries SET status = 'failed', tries = 2, next_attempt_at = 0")
    status, done = await post(api, f"/api/events/{ids[0]}/replay")
    assert status == 200
    assert done == {"rescheduled": 2, "skipped": 0, "sending": 0, "breaker_open_until": {}}
    _, page = await get(api, "/api/deliveries", params={"status": "failed", "sink": "crm"})
    status, done = await post(api, f"/api/deliveries/{page['items'][0]['id']}/retry")
    assert status == 200 and done["rescheduled"] == 1
    status, done = await post(api, "/api/replay", {"status": "failed", "sink": "crm"})
    assert status == 200
    assert done == {"rescheduled": 1, "skipped": 0, "sending": 0, "breaker_open_until": {}}
    assert query(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status = 'failed'") == [(2,)]
    assert query(tmp_path, "SELECT MAX(tries) FROM deliveries WHERE sink = 'crm'") == [(0,)]


async def test_bulk_replay_with_empty_filter_needs_all(api):
    """An empty filter would replay everything: it must be asked for with all=true."""
    await ingest(api, 2)
    status, body = await post(api, "/api/replay", {})
    assert status == 400 and "all" in body["error"]
    status, done = await post(api, "/api/replay", {"all": True})
    assert status == 200 and done["rescheduled"] == 4


async def test_replay_of_an_event_whose_sink_is_gone(api, tmp_path, settings_for):
    """When none of an event's sinks exists any more, replay says so (409) and changes nothing."""
    from service.keys import HOLDER

    ids = await ingest(api, 1)
    new = settings_for(server={"admin_token": TOKEN}, sinks={"other": {"type": "file", "path": str(tmp_path / "o")}},
                       routes=[{"name": "o", "events": ["*"], "to": ["other"]}])
    api.app[HOLDER].swap(new)
    status, body = await post(api, f"/api/events/{ids[0]}/replay")
    assert status == 409 and "is configured now" in body["error"]


async def test_sinks_enable_disable(api):
    """Disabling a sink parks its pending deliveries as disabled; enabling brings them back."""
    await ingest(api, 2)
    status, body = await post(api, "/api/sinks/crm/disable")
    assert status == 200 and body == {"name": "crm", "enabled": False, "deliveries_changed": 2}
    _, sinks = await get(api, "/api/sinks")
    crm = next(s for s in sinks["items"] if s["name"] == "crm")
    assert crm["enabled"] is False and crm["disabled_reason"] == "disabled by an operator"
    _, page = await get(api, "/api/deliveries", params={"status": "disabled"})
    assert len(page["items"]) == 2
    status, body = await post(api, "/api/sinks/crm/enable")
    assert body["deliveries_changed"] == 2
    _, page = await get(api, "/api/deliveries", params={"status": "disabled"})
    assert page["items"] == []


async def test_reload_refuses_a_broken_file_and_keeps_the_old_config(tmp_path, start):
    """POST /api/reload answers 422 with the errors and the old config keeps running."""
    from conftest import SECRET
    from service.config.settings import load_settings

    path = tmp_path / "ponte.yaml"
    good = (f"server: {{admin_token: {TOKEN}}}\nstorage: {{url: 'sqlite:///{tmp_path}/ponte.db'}}\n"
            f"sources: {{eduzz: {{type: eduzz, secrets: [{SECRET}]}}}}\n")
    path.write_text(good)
    client = await start(load_settings(str(path)))
    path.write_text(good + "sinks: {a: {type: nope}}\n")
    status, body = await post(client, "/api/reload")
    assert status == 422 and any("sinks.a.type" in e for e in body["errors"])
    assert (await post_signed(client, fixture_body("myeduzz.invoice_paid"))).status == 200
    path.write_text(good + f"sinks: {{a: {{type: file, path: '{tmp_path}/a'}}}}\n"
                    "routes: [{name: r, events: ['*'], to: [a]}]\n")
    status, body = await post(client, "/api/reload")
    assert status == 200
    _, sinks = await get(client, "/api/sinks")
    assert [s["name"] for s in sinks["items"]] == ["a"]


async def test_openapi_document_describes_every_route(api):
    """The served OpenAPI document lists every /api/ route the app has."""
    status, spec = await get(api, "/api/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    actual = {(r.method, r.resource.canonical.replace("{name}", "{name}")) for r in api.app.router.routes()
              if r.resource is not None and r.resource.canonical.startswith("/api/")}
    assert actual == documented


async def test_metrics_are_exposed(api):
    """/metrics speaks the Prometheus text format with ponte_ names."""
    await ingest(api, 1)
    text = await (await api.get("/metrics")).text()
    assert 'ponte_events_received_total{event="myeduzz.invoice_paid",source="eduzz",status="accepted"} 1.0' in text
    assert 'ponte_ingest_seconds_count{source="eduzz"} 1.0' in text
    assert 'ponte_ingest_seconds_bucket{le="+Inf",source="eduzz"} 1.0' in text
    assert 'ponte_backlog{sink="crm"} 1.0' in text
    assert "ponte_sqlite_bytes" in text


async def test_deliveries_planned_while_a_sink_is_disabled_wait_as_disabled(api):
    """New events for a disabled sink are planned as disabled, and enable releases them."""
    await post(api, "/api/sinks/crm/disable")
    await ingest(api, 2)
    _, page = await get(api, "/api/deliveries", params={"sink": "crm", "status": "disabled"})
    assert len(page["items"]) == 2
    status, body = await post(api, "/api/sinks/crm/enable")
    assert body["deliveries_changed"] == 2


def test_ingest_histogram_counts_each_request_in_its_bucket_and_above():
    """The hand-kept ingest histogram renders as a Prometheus cumulative histogram."""
    from prometheus_client.parser import text_string_to_metric_families

    from service.metrics import Metrics

    m = Metrics()
    for seconds in (0.0004, 0.0005, 0.003, 0.3, 30.0):
        m.observe_ingest("eduzz", "myeduzz.invoice_paid", "accepted", seconds)
    m.observe_ingest("eduzz", "", "error", 0.0)
    families = {f.name: f for f in text_string_to_metric_families(m.render()[0].decode())}
    buckets = {s.labels["le"]: s.value for s in families["ponte_ingest_seconds"].samples
               if s.name.endswith("_bucket")}
    assert buckets["0.0005"] == 3  # 0.0, 0.0004 and 0.0005 (le is inclusive)
    assert buckets["0.005"] == 4 and buckets["0.5"] == 5 and buckets["10.0"] == 5 and buckets["+Inf"] == 6
    counts = {(s.labels["event"], s.labels["status"]): s.value for s in families["ponte_events_received"].samples
              if s.name == "ponte_events_received_total"}
    assert counts == {("myeduzz.invoice_paid", "accepted"): 5, ("", "error"): 1}
