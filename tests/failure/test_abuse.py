"""Abuse: property-based fuzzing of ``POST /webhooks/eduzz`` through the real app.

Properties, for any request: never a 500 (nor a crash); a 200's ``event_id`` is in the
database (never an acknowledgement for something not stored); a 401 stores nothing; a 400
says what is wrong. Then: the built-in messages render for any JSON in ``data``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from conftest import fixture_body, sign
from failkit import query, until

pytestmark = pytest.mark.slow

FUZZ = settings(max_examples=120, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
OK = {200, 400, 401, 413}


def count_events(db_path: Path) -> int:
    return query(db_path, "SELECT COUNT(*) FROM events")[0][0]


def stored_id(db_path: Path, event_id: int) -> bool:
    return bool(query(db_path, "SELECT 1 FROM events WHERE id = ?", event_id))


@pytest.fixture
async def fuzz_client(tmp_path, settings_for, start, aiohttp_server):
    """One real app (worker on, file sink + a fake Slack) shared by every example of a test."""
    from aiohttp import web

    async def slack(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    fake = web.Application()
    fake.router.add_post("/services/T/B/x", slack)
    server = await aiohttp_server(fake)
    sinks = {"arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")},
             "vendas": {"type": "slack", "webhook_url": str(server.make_url("/services/T/B/x")),
                        "rate_per_second": 1000}}
    routes = [{"name": "tudo", "events": ["*"], "to": ["arquivo", "vendas"]}]
    cfg = settings_for(sinks=sinks, routes=routes, server={"max_body_bytes": 65536},
                       delivery={"max_attempts": 2, "retry_schedule": ["50ms"], "timeout": "2s"})
    client = await start(cfg, worker=True)
    client.db_path = tmp_path / "ponte.db"
    return client


async def check(client: Any, body: bytes, headers: dict[str, str]) -> int:
    """POST and check the properties every answer must have; return the status."""
    before = count_events(client.db_path)
    resp = await client.post("/webhooks/eduzz", data=body, headers=headers)
    text = await resp.text()
    assert resp.status in OK, (resp.status, text[:300], body[:200])
    answer = json.loads(text)
    if resp.status == 200:
        assert answer["status"] in ("accepted", "duplicate", "ignored")
        assert stored_id(client.db_path, answer["event_id"]), "acknowledged but not stored"
    else:
        assert answer["status"] == "error" and answer["error"]
        assert count_events(client.db_path) == before, f"{resp.status} stored something"
    return resp.status


def signed(body: bytes, mode: str) -> dict[str, str]:
    if mode == "signed":
        return {"x-signature": sign(body), "content-type": "application/json"}
    if mode == "unsigned":
        return {"content-type": "application/json"}
    if mode == "other-secret":
        return {"x-signature": sign(body, "not-the-secret")}
    if mode == "upper-hex":  # Eduzz sends lowercase; case must not matter
        return {"x-signature": sign(body).upper()}
    return {"x-signature": sign(body)[:-1] + ("0" if sign(body)[-1] != "0" else "1")}


SIGNING = st.sampled_from(["signed", "unsigned", "other-secret", "one-digit-off", "upper-hex"])


async def finish_deliveries(client: Any) -> None:
    """Every delivery of fuzzed events ends succeeded or failed (with a reason); none hang."""
    def done() -> bool:
        left = query(client.db_path, "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending')")
        return left[0][0] == 0

    await until(done, 20, "every fuzzed delivery finished")
    failed = query(client.db_path, "SELECT d.sink, d.last_error, e.body FROM deliveries d JOIN events e "
                                   "ON e.id = d.event_id WHERE d.status = 'failed'")
    assert not failed, f"built-in messages failed on fuzzed payloads: {failed[:3]}"


# --- arbitrary bytes ------------------------------------------------------------------


@FUZZ
@given(body=st.binary(max_size=3000), mode=SIGNING)
@example(body=b"", mode="signed")
@example(body=b"\x00" * 100, mode="signed")
@example(body=b"\xff\xfe{\"event\": \"x\"}", mode="signed")
@example(body=b'{"event": "x", "data": 1}' + b" " * 2000, mode="signed")
async def test_arbitrary_bytes_never_500(fuzz_client, body, mode):
    """Random bytes, signed or not: 400/401 (or 200 if it happens to be an envelope), never 500."""
    status = await check(fuzz_client, body, signed(body, mode))
    if mode != "signed" and mode != "upper-hex":
        assert status == 401


# --- JSON documents ----------------------------------------------------------------------

ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "a\x00b", "\r\nBcc: x@y", "\ufeff", "\U0001f600" * 5,
        "<!channel>", "{{ 7*7 }}", "'; DROP TABLE events;--", "../../etc/passwd", "\\", "\u0085\u2028\u2029",
        "é" * 300,
    ]),
)
NUMBERS = st.one_of(
    st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**63, -(2**63) - 1, 10**30, 1e308, 5e-324, -0.0]),
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(ODD_TEXT, inner, max_size=5),
    max_leaves=30,
)
EVENT_NAMES = st.one_of(
    st.sampled_from(["myeduzz.invoice_paid", "myeduzz.invoice_refunded", "ping", "invoice_paid",
                     "myeduzz.contract_created", "alpaclass.student_created", "nutror.x", "acme.x",
                     "a" * 200, "a" * 201, "  ", "ev\"'`;--"]),
    ODD_TEXT,
)


@FUZZ
@given(doc=st.fixed_dictionaries({"event": EVENT_NAMES}, optional={
    "id": st.one_of(ODD_TEXT, st.integers(), st.floats(allow_nan=False), st.none(), st.booleans(), JSON),
    "sentDate": st.one_of(ODD_TEXT, NUMBERS, st.none()),
    "data": JSON,
}), mode=SIGNING)
async def test_envelopes_with_odd_values_never_500(fuzz_client, doc, mode):
    """Envelopes with odd ids, names, dates and data: stored and delivered, or refused with a reason."""
    body = json.dumps(doc, ensure_ascii=bool(len(str(doc)) % 2)).encode()
    await check(fuzz_client, body, signed(body, mode))


@FUZZ
@given(event=EVENT_NAMES, data=JSON, extra=st.lists(st.tuples(st.sampled_from(["id", "event", "data", "x"]), JSON),
                                                    max_size=3))
async def test_duplicate_keys_never_500(fuzz_client, event, data, extra):
    """Duplicate keys (the last one wins in msgspec): never a 500, and what is stored is the raw body."""
    parts = [f'"event": {json.dumps(event)}', f'"data": {json.dumps(data)}']
    parts += [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in extra]
    body = ("{" + ", ".join(parts) + "}").encode()
    await check(fuzz_client, body, signed(body, "signed"))


# Hand-written edge cases: escapes msgspec may refuse, huge numbers, NUL, odd spacing.
EDGES = [
    b'{"event": "x", "data": {"n": 1e400}}',
    b'{"event": "x", "data": {"n": -1e400}}',
    b'{"event": "x", "id": "big", "data": {"n": ' + b"9" * 5000 + b"}}",
    b'{"event": "x", "id": ' + b"9" * 500 + b', "data": {}}',
    b'{"event": "x", "id": "f", "data": {"n": 0.' + b"0" * 5000 + b"1}}",
    b'{"event": "x", "id": "s1", "data": {"s": "\\ud800"}}',
    b'{"event": "x", "id": "s2", "data": {"s": "\\udfff\\ud800"}}',
    b'{"event": "x", "id": "s3", "data": {"s": "\\ud83d\\ude00"}}',
    b'{"event": "x\\u0000y", "id": "\\u0000", "data": {"\\u0000": "\\u0000"}}',
    b'{"event": "\\u202etxt.exe", "id": "rtl", "data": {}}',
    b'{"event":"x","id":"ws","data":{}}\n\n\t ',
    b'\xef\xbb\xbf{"event": "x", "id": "bom", "data": {}}',
    b'{"event": "x", "id": "cesu", "data": {"s": "\xed\xa0\x80"}}',
    b'{"event": "x", "id": "over", "data": {"s": "\xc0\xaf"}}',
    b'{"event": "x", "id": "nan", "data": {"n": NaN}}',
    b'{"event": "x", "id": "inf", "data": {"n": Infinity}}',
    b'{"event": "x", "id": "trail", "data": {}},',
    b'{"event": "x", "id": "two"}{"event": "y"}',
    b'{"event": ["myeduzz.invoice_paid"], "data": {}}',
    b'{"event": {"name": "x"}, "data": {}}',
    b'{"event": "x", "id": "deepish", "data": ' + b"[" * 200 + b"]" * 200 + b"}",
    b'{"event": "x", "id": "wide", "data": [' + b",".join([b"{}"] * 5000) + b"]}",
]


@pytest.mark.parametrize("body", EDGES, ids=range(len(EDGES)))
async def test_edge_bodies_never_500(fuzz_client, body):
    """Escaped lone surrogates, 1e400, 5000-digit numbers, NUL, RTL, BOM, bad UTF-8: 200 or 400."""
    status = await check(fuzz_client, body, signed(body, "signed"))
    assert status in (200, 400)
    # Unsigned, the same body is a 401 and stores nothing.
    assert await check(fuzz_client, body, signed(body, "unsigned")) == 401


@pytest.mark.parametrize("depth", [1_000, 10_000])
async def test_deep_nesting_is_refused_not_500(fuzz_client, depth):
    """A signed body with ``depth`` nested arrays in ``data``: 400 (or stored), never 500."""
    body = b'{"event": "x", "id": "deep", "data": ' + b"[" * depth + b"]" * depth + b"}"
    await check(fuzz_client, body, signed(body, "signed"))


async def test_deeply_nested_but_accepted_event_is_delivered(fuzz_client):
    """Nesting of 900 levels: either refused up front (400, e.g. a depth limit) or, once
    acknowledged, delivered to every sink — never acknowledged and then undeliverable."""
    body = b'{"event": "x", "id": "deep900", "data": ' + b"[" * 900 + b"]" * 900 + b"}"
    if await check(fuzz_client, body, signed(body, "signed")) == 200:
        await finish_deliveries(fuzz_client)


# --- headers --------------------------------------------------------------------------


async def raw_post(client: Any, head: bytes, body: bytes) -> bytes:
    """Send bytes on a fresh connection and return the status line (bounded in time)."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    try:
        writer.write(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


KEPT = [b"x-subscription", b"x-delivery-attempt", b"user-agent", b"content-type"]


@pytest.mark.parametrize("name", KEPT, ids=[k.decode() for k in KEPT])
async def test_non_utf8_bytes_in_a_kept_header_never_500(fuzz_client, name):
    """A signed event whose x-subscription (etc.) holds bytes that are not UTF-8: 200 or 400."""
    body = b'{"event": "x", "id": "hdr-%s", "data": {}}' % name
    head = (b"POST /webhooks/eduzz HTTP/1.1\r\nHost: 127.0.0.1\r\nx-signature: "
            + sign(body).encode() + b"\r\n" + name + b": \xff\xfe\xc3(\r\n")
    line = await raw_post(fuzz_client, head, body)
    assert b" 500 " not in line, line


async def test_admin_token_with_non_utf8_bytes_is_403_not_500(tmp_path, settings_for, start):
    """A bearer token that is not UTF-8: 401/403, never 500."""
    client = await start(settings_for(server={"admin_token": "t0ken-t0ken-t0ken"}))
    head = b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \xff\xfe\r\n"
    line = await raw_post(client, head, b"")
    assert line.split()[1] in (b"401", b"403"), line


@FUZZ
@given(value=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60),
       name=st.sampled_from(["x-subscription", "x-delivery-attempt", "user-agent"]))
async def test_printable_header_values_are_kept(fuzz_client, value, name):
    """Any printable ASCII in the headers Ponte keeps: never a 500."""
    body = json.dumps({"event": "x", "id": f"h-{name}-{value}", "data": {}}).encode()
    await check(fuzz_client, body, {**signed(body, "signed"), name: value})


# --- the built-in messages on any data ------------------------------------------------------


def mutate(doc: Any, draw: Any, depth: int = 0) -> Any:
    """Replace some nodes of a fixture (leaves, and below the top also lists and objects) with
    arbitrary JSON, mostly null, numbers and strings."""
    if depth > 0 and draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(st.none(), NUMBERS, ODD_TEXT, JSON))
    if isinstance(doc, dict):
        return {k: mutate(v, draw, depth + 1) for k, v in doc.items()}
    if isinstance(doc, list):
        return [mutate(v, draw, depth + 1) for v in doc]
    return doc


@st.composite
def mutated_fixture(draw: Any) -> tuple[str, dict[str, Any]]:
    from service.eduzz.catalogue import EVENT_NAMES as NAMES

    event = draw(st.sampled_from(sorted(NAMES)))
    doc = json.loads(fixture_body(event))
    return event, mutate(doc, draw)


def render_builtin(event: str, doc: dict[str, Any]) -> None:
    """Render the built-in Slack, email and file messages of ``event`` for ``doc``."""
    from service.render.builtin.messages import builtin_template
    from service.render.messages import context_for
    from service.store.records import Claimed

    body = json.dumps(doc).encode()
    claimed = Claimed(1, 1, "s", "r", 0, 0, "eduzz", event, str(doc.get("id", "x")), None, 0.0, body)
    for kind in ("slack", "email", "file"):
        template = builtin_template(event, kind)
        assert template is not None
        rendered = template.render(context_for(claimed))
        assert isinstance(rendered, dict)
        json.dumps(rendered)


BUILTIN_REASON = (
    "service/eduzz/messages_specs.py: built-in message expressions assume list fields are lists and "
    "coupon keys are hashable: `| unique` on data.items[].coupon.key raises 'unhashable type', and "
    "iterating/len() of data.participants, data.tickets(.batches), data.commissions.affiliates/"
    "coproducers, data.participant.tags, data.items/products/courses raises TypeError when they are "
    "null or a number -> TemplateError -> the Slack/email (sometimes file) delivery of an accepted "
    "event fails permanently")


@settings(max_examples=200, deadline=None, database=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate])  # no shrinking: the cases are listed below
@given(case=mutated_fixture())
def test_builtin_messages_render_for_any_data(case):
    """Every catalogue event's built-in Slack, email and file message renders for mutated data."""
    render_builtin(*case)


NULLS = [
    ("myeduzz.commission_processed", ["data", "commissions", "affiliates"], None),
    ("myeduzz.commission_processed", ["data", "commissions", "coproducers"], None),
    ("blinket.attendances_printed", ["data", "participants"], None),
    ("blinket.ticket_edited", ["data", "tickets"], None),
    ("myeduzz.invoice_paid", ["data", "items", 0, "coupon", "key"], ["PROMO10"]),
    ("blinket.attendance_added", ["data", "participant", "tags"], 3),
]


@pytest.mark.parametrize(("event", "path", "value"), NULLS, ids=[f"{e}:{p[-1]}" for e, p, _ in NULLS])
def test_builtin_messages_survive_null_lists(event, path, value):
    """A list field that is null (or a coupon key that is a list): the message still renders."""
    doc = json.loads(fixture_body(event))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    render_builtin(event, doc)


async def test_fuzzed_deliveries_all_finish(fuzz_client):
    """After a burst of odd but valid envelopes, every delivery ends (none stuck, none crashed)."""
    import random

    rng = random.Random(3)
    names = ["myeduzz.invoice_paid", "myeduzz.contract_created", "acme.x", "ping", "invoice_paid"]
    for i in range(60):
        doc = json.loads(fixture_body("myeduzz.invoice_paid"))
        doc["id"] = f"burst-{i}"
        doc["event"] = rng.choice(names)
        doc["data"]["price"]["value"] = rng.choice([None, "abc", 1e308, -5, [], {}, "1.234,56", True])
        doc["data"]["buyer"] = rng.choice([None, "x", [], {"name": "\u202e<!here>\x00"}, 5])
        body = json.dumps(doc).encode()
        assert await check(fuzz_client, body, signed(body, "signed")) == 200
    await finish_deliveries(fuzz_client)
