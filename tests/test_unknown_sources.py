"""Requests to unknown sources are answered 404 without growing the metrics (bounded memory)."""

from __future__ import annotations

from conftest import SECRET, sign

NAMES = [f"nope-{i}-{'z' * 40}" for i in range(50)]


async def test_unknown_sources_share_one_label_value(settings_for, start):
    """50 random source names leave no trace in /metrics; they count under "(unknown)"."""
    client = await start(settings_for())
    body = b'{"id": "1", "event": "acme.thing"}'
    for name in NAMES:
        headers = {"x-signature": sign(body, SECRET)}
        resp = await client.post(f"/webhooks/{name}", data=body, headers=headers)
        assert resp.status == 404
    text = await (await client.get("/metrics")).text()
    assert "nope-" not in text
    assert 'ponte_events_received_total{event="",source="(unknown)",status="error"} 50.0' in text
    assert 'ponte_ingest_seconds_count{source="(unknown)"} 50.0' in text


async def test_an_oversized_announced_body_to_an_unknown_source_adds_no_label(settings_for, start):
    """The Expect: 100-continue refusal (413) does not label metrics with the URL's name either."""
    client = await start(settings_for(server={"max_body_bytes": 10}))
    resp = await client.post("/webhooks/nope-expect", data=b"x" * 100,
                             headers={"Expect": "100-continue"})
    assert resp.status == 413
    text = await (await client.get("/metrics")).text()
    assert "nope-expect" not in text
    assert 'source="(unknown)"' in text
