"""The webhook ingress end to end: real HTTP, real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pgkit import query

from conftest import SECRET, fixture_body, post_signed, sign
from service.eduzz.catalogue import EVENT_NAMES
from service.errors import ConfigError
from service.keys import STORE
from service.store.sqlite.store import SQLiteStore


def rows(tmp_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the database directly, as a second process would."""
    return query(tmp_path, sql, *args)


async def test_all_63_fixtures_are_accepted_and_stored_once(tmp_path, settings_for, start):
    """Every catalogue example, signed as Eduzz signs, is stored exactly once, byte for byte."""
    client = await start(settings_for())
    for event in EVENT_NAMES:
        body = fixture_body(event)
        resp = await post_signed(client, body)
        assert resp.status == 200, (event, await resp.text())
        assert (await resp.json())["status"] == "accepted"
    stored = rows(tmp_path, "SELECT event, body FROM events")
    assert sorted(e for e, _ in stored) == sorted(EVENT_NAMES)
    assert {bytes(b) for _, b in stored} == {fixture_body(e) for e in EVENT_NAMES}
    assert rows(tmp_path, "SELECT COUNT(*) FROM deliveries")[0][0] == 63


async def test_unprefixed_event_name_is_normalised(tmp_path, settings_for, start):
    """Eduzz's examples sometimes drop the app prefix; the stored name has it."""
    client = await start(settings_for())
    resp = await post_signed(client, fixture_body("myeduzz.contract_created"))
    assert resp.status == 200
    assert rows(tmp_path, "SELECT event FROM events") == [("myeduzz.contract_created",)]


async def test_duplicate_answers_original_id_and_is_not_planned_again(tmp_path, settings_for, start):
    """A resend of the same event is a duplicate: same event_id, no second delivery."""
    client = await start(settings_for())
    body = fixture_body("myeduzz.invoice_paid")
    first = await (await post_signed(client, body)).json()
    second = await (await post_signed(client, body, headers={"x-delivery-attempt": "2"})).json()
    assert second == {"status": "duplicate", "event_id": first["event_id"]}
    assert rows(tmp_path, "SELECT COUNT(*) FROM deliveries")[0][0] == 1


async def test_same_id_different_event_is_not_a_duplicate(tmp_path, settings_for, start):
    """Eduzz reuses ids across event names, so the name is part of the identity."""
    client = await start(settings_for())
    a = json.dumps({"id": "x1", "event": "myeduzz.invoice_paid", "data": {}}).encode()
    b = json.dumps({"id": "x1", "event": "myeduzz.invoice_refunded", "data": {}}).encode()
    assert (await (await post_signed(client, a)).json())["status"] == "accepted"
    assert (await (await post_signed(client, b)).json())["status"] == "accepted"


async def test_event_without_id_gets_a_stable_identity(tmp_path, settings_for, start):
    """No id: a hash of the body identifies it, so the same body again is a duplicate."""
    client = await start(settings_for())
    body = fixture_body("alpaclass.student_module_finished")
    assert b'"id"' not in body[:20]
    assert (await (await post_signed(client, body)).json())["status"] == "accepted"
    assert (await (await post_signed(client, body)).json())["status"] == "duplicate"
    (ext,) = rows(tmp_path, "SELECT external_id FROM events")[0]
    assert ext.startswith("sha256:")


async def test_ping_is_stored_and_ignored(tmp_path, settings_for, start):
    """The verification ping answers 200 ignored and plans no delivery."""
    client = await start(settings_for())
    resp = await post_signed(client, b'{"event": "ping", "data": {"message": "ping"}}')
    assert (await resp.json())["status"] == "ignored"
    assert rows(tmp_path, "SELECT status FROM events") == [("ignored",)]
    assert rows(tmp_path, "SELECT COUNT(*) FROM deliveries")[0][0] == 0


async def test_unknown_event_is_accepted_and_routed(tmp_path, settings_for, start):
    """Events Ponte does not know are stored and routed like any other."""
    client = await start(settings_for())
    resp = await post_signed(client, b'{"id": "1", "event": "acme.rocket_launched", "data": {"x": 1}}')
    assert (await resp.json())["status"] == "accepted"
    assert rows(tmp_path, "SELECT COUNT(*) FROM deliveries")[0][0] == 1


async def test_headers_that_matter_are_kept(tmp_path, settings_for, start):
    """x-subscription and x-delivery-attempt are stored with the event."""
    client = await start(settings_for())
    extra = {"x-subscription": "lk354pklutdkh2ii7s7008qfy:myeduzz.invoice_paid", "x-delivery-attempt": "3"}
    await post_signed(client, fixture_body("myeduzz.invoice_paid"), headers=extra)
    headers = json.loads(rows(tmp_path, "SELECT headers FROM events")[0][0])
    assert headers["x-subscription"] == extra["x-subscription"]
    assert headers["x-delivery-attempt"] == "3"


async def test_schema_mismatch_is_recorded_not_refused(tmp_path, settings_for, start):
    """A payload that does not fit the catalogue is accepted, with the mismatch noted."""
    client = await start(settings_for())
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["data"]["price"]["value"] = "not a number"
    resp = await post_signed(client, json.dumps(doc).encode())
    assert resp.status == 200
    (error,) = rows(tmp_path, "SELECT schema_error FROM events")[0]
    assert "data.price.value" in error


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "missing"), ({"x-signature": "0" * 64}, "wrong"), ({"x-signature": sign(b"other")}, "wrong"),
     ({"x-signature": "ação"}, "wrong")],
)
async def test_bad_signature_is_401_and_stores_nothing(tmp_path, settings_for, start, headers, reason):
    """Missing or wrong signatures answer 401 and nothing is kept."""
    client = await start(settings_for())
    resp = await client.post("/webhooks/eduzz", data=fixture_body("myeduzz.invoice_paid"), headers=headers)
    assert resp.status == 401
    assert reason in (await resp.json())["error"]
    assert rows(tmp_path, "SELECT COUNT(*) FROM events")[0][0] == 0


async def test_rotated_secrets_are_all_accepted(tmp_path, settings_for, start):
    """Any configured secret verifies (rotation)."""
    sources = {"eduzz": {"type": "eduzz", "secrets": ["old", SECRET]}}
    client = await start(settings_for(sources=sources))
    body = fixture_body("myeduzz.invoice_paid")
    assert (await post_signed(client, body, secret="old")).status == 200


async def test_no_secret_configured_is_refused_at_load(tmp_path, settings_for):
    """A source with no secret would refuse everything: the config is refused instead."""
    with pytest.raises(ConfigError, match=r"sources.eduzz: no secret configured"):
        settings_for(sources={"eduzz": {"type": "eduzz"}})


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"", "empty body"), (b"{not json", "malformed JSON"), (b"[1, 2]", "an array"),
     (b'"text"', "a string"), (b'{"data": {}}', 'missing "event"'), (b'{"event": 5}', 'missing "event"'),
     (b'{"event": "x", "data": "\xff\xfe"}', "malformed JSON")],
)
async def test_bad_bodies_are_400_with_a_reason(tmp_path, settings_for, start, body, message):
    """Bodies that are not a JSON envelope answer 400 saying why; nothing is kept."""
    client = await start(settings_for())
    resp = await post_signed(client, body)
    assert resp.status == 400
    assert message in (await resp.json())["error"]
    assert rows(tmp_path, "SELECT COUNT(*) FROM events")[0][0] == 0


async def test_body_over_the_limit_is_413(tmp_path, settings_for, start):
    """A body over max_body_bytes answers 413 and is not stored."""
    client = await start(settings_for(server={"max_body_bytes": 1000}))
    body = json.dumps({"event": "x", "data": {"pad": "a" * 5000}}).encode()
    resp = await post_signed(client, body)
    assert resp.status == 413
    assert rows(tmp_path, "SELECT COUNT(*) FROM events")[0][0] == 0


async def test_chunked_body_over_the_limit_is_413(tmp_path, settings_for, start):
    """Without Content-Length the limit holds while reading."""
    client = await start(settings_for(server={"max_body_bytes": 1000}))

    async def chunks():
        for _ in range(100):
            yield b"a" * 100

    resp = await client.post("/webhooks/eduzz", data=chunks(), headers={"x-signature": "0" * 64})
    assert resp.status == 413


async def test_unknown_source_is_404(tmp_path, settings_for, start):
    """POST to a source that is not configured answers 404."""
    client = await start(settings_for())
    resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"), source="nope")
    assert resp.status == 404


async def test_get_webhook_url_answers_200(tmp_path, settings_for, start):
    """Senders check the URL with GET."""
    client = await start(settings_for())
    assert (await client.get("/webhooks/eduzz")).status == 200
    assert (await client.get("/webhooks/nope")).status == 404


async def test_health_and_readiness(tmp_path, settings_for, start):
    """healthz says the process is up; readyz that the database answers."""
    client = await start(settings_for())
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200


@pytest.mark.sqlite_only
async def test_full_database_answers_503_and_acknowledges_nothing(tmp_path, settings_for, start):
    """A database that cannot grow answers 503; the sender will retry; recovery follows."""
    settings = settings_for()
    store = SQLiteStore(str(tmp_path / "ponte.db"), max_pages=40)
    client = await start(settings, store=store)
    statuses = []
    for i in range(200):
        doc = {"id": f"e{i}", "event": "acme.big", "data": {"pad": "x" * 4000}}
        statuses.append((await post_signed(client, json.dumps(doc).encode())).status)
    assert 503 in statuses and statuses[0] == 200
    accepted = statuses.count(200)
    assert rows(tmp_path, "SELECT COUNT(*) FROM events")[0][0] == accepted
    assert (await client.get("/healthz")).status == 200


@pytest.mark.sqlite_only
async def test_one_failing_job_does_not_roll_back_its_batch(tmp_path, settings_for, start):
    """Group commit: a job that fails inside a shared transaction loses only its own rows."""
    import asyncio

    from service.store.records import NewDelivery, NewEvent

    client = await start(settings_for())
    store = client.app[STORE]

    def event(i: int) -> NewEvent:
        return NewEvent("eduzz", f"g{i}", "acme.x", None, 0.0, "accepted", {}, b"{}")

    bad = [NewDelivery("arquivo", "tudo"), NewDelivery("arquivo", "tudo")]  # violates UNIQUE(event, sink)
    results = await asyncio.gather(
        *(store.save_event(event(i), [NewDelivery("arquivo", "tudo")]) for i in range(5)),
        store.save_event(event(99), bad),
        return_exceptions=True,
    )
    assert all(not isinstance(r, Exception) for r in results[:5])
    assert isinstance(results[5], sqlite3.IntegrityError)
    assert rows(tmp_path, "SELECT COUNT(*) FROM events")[0][0] == 5


async def test_hmac_source_with_prefix_and_base64(tmp_path, settings_for, start):
    """The generic hmac source verifies a prefixed base64 signature and reads the event header."""
    import base64
    import hashlib
    import hmac as hmac_

    sources = {"gh": {"type": "hmac", "header": "X-Hub-Signature-256", "prefix": "sha256=",
                      "encoding": "base64", "secrets": ["s3"], "event_header": "X-GitHub-Event"}}
    client = await start(settings_for(sources=sources))
    body = b'{"action": "opened"}'
    sig = base64.b64encode(hmac_.new(b"s3", body, hashlib.sha256).digest()).decode()
    headers = {"X-Hub-Signature-256": f"sha256={sig}", "X-GitHub-Event": "issues"}
    resp = await client.post("/webhooks/gh", data=body, headers=headers)
    assert resp.status == 200, await resp.text()
    assert rows(tmp_path, "SELECT event FROM events") == [("issues",)]
    headers["X-Hub-Signature-256"] = "sha256=" + base64.b64encode(b"x" * 32).decode()
    assert (await client.post("/webhooks/gh", data=body, headers=headers)).status == 401


async def test_an_older_database_is_upgraded(tmp_path):
    """A file at schema v1 is migrated to the latest version on open, its rows kept."""
    from service.store.sqlite.schema import LATEST, MIGRATIONS

    path = tmp_path / "ponte.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.execute("INSERT INTO events (source, external_id, event, received_at, status, headers, body) "
                     "VALUES ('eduzz', 'x', 'acme.x', 0, 'accepted', '{}', x'7b7d')")
    store = SQLiteStore(str(path))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == LATEST >= 2
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "deliveries_claim" in names
    assert "deliveries_due" not in names  # migration 3: the claim index answers next_due


async def test_next_due_is_the_earliest_pending_delivery_of_the_given_sinks(tmp_path):
    """First tries and retries both count; sending rows and other sinks do not."""
    path = tmp_path / "ponte.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as conn:
        rows = [("a", "pending", 0, 100.0), ("b", "pending", 0, 50.0), ("a", "pending", 2, 30.0),
                ("a", "sending", 0, 10.0), ("c", "pending", 0, 5.0), ("b", "failed", 1, 1.0)]
        for i, (sink, status, tries, due) in enumerate(rows, 1):
            conn.execute("INSERT INTO events (id, source, external_id, event, received_at, status, headers, body) "
                         "VALUES (?, 'eduzz', ?, 'acme.x', 0, 'accepted', '{}', x'7b7d')", (i, f"x{i}"))
            conn.execute("INSERT INTO deliveries (event_id, sink, route, status, tries, next_attempt_at, "
                         "created_at, updated_at) VALUES (?, ?, 'r', ?, ?, ?, 0, 0)",
                         (i, sink, status, tries, due))
    store = SQLiteStore(str(path))
    await store.open()
    try:
        assert await store.next_due(["a", "b"]) == 30.0  # a retry
        assert await store.next_due(["b"]) == 50.0  # a first try
        assert await store.next_due(["zzz"]) is None
        assert await store.next_due([]) is None
    finally:
        await store.close()


async def test_a_database_from_a_newer_ponte_is_refused(tmp_path):
    """A schema version this Ponte does not know is a clear error naming the file."""
    from service.errors import StorageCorrupt

    path = tmp_path / "ponte.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99)")
    with pytest.raises(StorageCorrupt, match="newer than this Ponte"):
        await SQLiteStore(str(path)).open()


async def test_duplicates_inside_one_shared_commit(tmp_path, settings_for, start):
    """Two copies of one event in the same batch: one is stored, the other answers its id."""
    import asyncio

    from service.store.records import NewDelivery, NewEvent

    client = await start(settings_for())
    store = client.app[STORE]
    event = NewEvent("eduzz", "same", "acme.x", None, 0.0, "accepted", {}, b"{}")
    other = NewEvent("eduzz", "other", "acme.x", None, 0.0, "accepted", {}, b"{}")
    first, second, third = await asyncio.gather(
        store.save_event(event, [NewDelivery("arquivo", "tudo")]),
        store.save_event(event, [NewDelivery("arquivo", "tudo")]),
        store.save_event(other, [NewDelivery("arquivo", "tudo")]),
    )
    assert sorted([first.duplicate, second.duplicate]) == [False, True]  # either may win
    assert not third.duplicate
    assert second.event_id == first.event_id != third.event_id
    assert rows(tmp_path, "SELECT COUNT(*) FROM deliveries")[0][0] == 2
