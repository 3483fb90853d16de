"""Injection: what a payload (or a template author) can make Ponte say, send or store.

- Slack mentions and links in payload values never reach Slack raw (built-in and user templates).
- CR/LF in values that reach email headers cannot add a header or a recipient.
- Jinja sandbox escapes in a user template fail the delivery for good, with a reason; nothing
  internal is sent; the process keeps delivering.
- Ids and event names full of SQL and path metacharacters are stored verbatim.
- Secrets never appear in logs or API answers, whatever fails.
"""

from __future__ import annotations

import asyncio
import base64
import email
import json
import logging
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import structlog
from aiohttp import web
from aiosmtpd.controller import Controller
from pgkit import uses_postgres

from conftest import fixture_body, post_signed, sign
from failkit import Receiver, SilentServer, free_port, until
from test_delivery import db
from test_end_to_end import Inbox

pytestmark = pytest.mark.slow

FAST = {"max_attempts": 2, "retry_schedule": ["50ms"], "timeout": "1s"}
MARKUP = ["<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<https://x|y>",
          "<!subteam^S123>", "<https://evil.example/login|Clique aqui>"]
HOSTILE = " ".join(MARKUP) + " {{ 7*7 }} {% raw %}x{% endraw %} *bold* `code`"


def strings(node: Any) -> Iterator[str]:
    """Every string value (not key) in a decoded JSON document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def poison(node: Any) -> Any:
    """Every string leaf of a payload replaced by the hostile text (ids and dates kept usable)."""
    if isinstance(node, dict):
        return {k: (v if k in ("id", "sentDate", "event") else poison(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [poison(v) for v in node]
    if isinstance(node, str):
        return f"{node} {HOSTILE}"
    return node


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


async def fake_slack(aiohttp_server: Any, path: str = "/services/T0/B0/secret") -> tuple[list[Any], str]:
    received: list[Any] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post(path, hook)
    server = await aiohttp_server(app)
    return received, str(server.make_url(path))


# --- Slack markup ------------------------------------------------------------------------

def all_events() -> list[str]:
    from service.eduzz.catalogue import EVENT_NAMES

    return sorted(EVENT_NAMES)


async def test_slack_markup_in_payload_values_never_reaches_slack_raw(tmp_path, settings_for, start, aiohttp_server):
    """Mentions, channel pings and links in every payload value: escaped in the built-in messages
    of all 63 catalogue events, in a user template (text, native blocks, tojson) and in the fallback text;
    template syntax in a value is never evaluated."""
    received, url = await fake_slack(aiohttp_server)
    template = {
        "text": "Venda para {{ data.buyer.name }} ({{ data.buyer.email }}): {{ data | tojson }}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "*{{ data.buyer.name }}* {{ data.producer.name }}"}},
            {"type": "section",
             "text": {"type": "mrkdwn", "text": "{{ data.buyer.name | slack_link(data.buyer.name) }}"}},
            {"type": "context", "elements": "{{ data.items }}"},
            {"type": "section",
             "text": {"type": "mrkdwn", "text": "{{ data.buyer.name | safe }} {{ data.buyer.name | e }}"}},
        ],
    }
    sinks = {"vendas": {"type": "slack", "webhook_url": url, "rate_per_second": 1000},
             "custom": {"type": "slack", "webhook_url": url, "rate_per_second": 1000}}
    routes = [{"name": "builtin", "events": ["*"], "to": ["vendas"]},
              {"name": "custom", "events": ["myeduzz.invoice_paid"], "to": [{"sink": "custom", "template": template}]}]
    client = await start(settings_for(sinks=sinks, routes=routes, delivery=FAST), worker=True)
    for event in all_events():
        doc = poison(json.loads(fixture_body(event)))
        assert (await post_signed(client, json.dumps(doc).encode())).status == 200
    # An unknown event name full of markup gets the generic message and the fallback text.
    odd = {"id": "odd-1", "event": "acme.<!channel>", "data": {"<!here>": HOSTILE, "list": [HOSTILE]}}
    assert (await post_signed(client, json.dumps(odd).encode())).status == 200
    expected = len(all_events()) + 2
    await until(lambda: len(received) == expected, 10, "every Slack message arrived")
    assert db(tmp_path, "SELECT DISTINCT status FROM deliveries") == [("succeeded",)]
    for payload in received:
        for text in strings(payload):
            for mark in MARKUP:
                assert mark not in text, (mark, text[:300])
            assert "<!" not in text and "<@" not in text and "<#" not in text, text[:300]
            assert " 49 " not in f" {text} ", "a payload value was evaluated as a template"
    assert any("&lt;!channel&gt;" in t for p in received for t in strings(p))
    assert any("{{ 7*7 }}" in t for p in received for t in strings(p))


# --- email headers ------------------------------------------------------------------------

INJECTED = ("Alice\r\nBcc: evil@x.example\r\nX-Injected: yes\n\rTo: evil2@x.example\r\n\r\n.\r\n"
            "RCPT TO:<evil3@x.example>")


async def test_crlf_in_values_cannot_add_email_headers_or_recipients(tmp_path, settings_for, start, smtp):
    """A buyer name with CR/LF in a user-template subject, text and html, and in the built-in
    email: one message per delivery, to the configured recipients only, no added header."""
    inbox, port = smtp
    base = {"type": "email", "host": "127.0.0.1", "port": port, "security": "none",
            "from": "Ponte <ponte@example.com>", "to": ["fin@example.com"]}
    template = {"subject": "{{ data.buyer.name }}", "text": "Nome: {{ data.buyer.name }}",
                "html": "<p>{{ data.buyer.name }} <script>x</script></p>"}
    sinks = {"custom": base, "builtin": dict(base)}
    routes = [{"name": "custom", "events": ["*"], "to": [{"sink": "custom", "template": template}]},
              {"name": "builtin", "events": ["*"], "to": ["builtin"]}]
    client = await start(settings_for(sinks=sinks, routes=routes, delivery=FAST), worker=True)
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["data"]["buyer"]["name"] = INJECTED + "<script>alert(1)</script>"
    doc["data"]["product"] = {**doc["data"].get("product", {}), "name": INJECTED}
    assert (await post_signed(client, json.dumps(doc).encode())).status == 200
    await until(lambda: len(inbox.messages) == 2, 10, "both emails arrived")
    await asyncio.sleep(0.3)
    assert len(inbox.messages) == 2, "the payload smuggled an extra SMTP transaction"
    assert db(tmp_path, "SELECT DISTINCT status FROM deliveries") == [("succeeded",)]
    for rcpts, raw in inbox.messages:
        assert rcpts == ["fin@example.com"]
        message = email.message_from_bytes(raw, policy=policy.default)
        assert message["Bcc"] is None and message["X-Injected"] is None
        assert message.get_all("To") == ["fin@example.com"]
        assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
        html = message.get_body(("html",))
        if html is not None:
            assert "<script>alert(1)</script>" not in html.get_content()
    custom = email.message_from_bytes(inbox.messages[0][1], policy=policy.default)
    builtin = email.message_from_bytes(inbox.messages[1][1], policy=policy.default)
    if "Nome:" not in custom.get_body(("plain",)).get_content():
        custom, builtin = builtin, custom
    assert str(custom["Subject"]).startswith("Alice Bcc: evil@x.example X-Injected: yes")
    assert "RCPT TO:<evil3@x.example>" in custom.get_body(("plain",)).get_content()


# --- Jinja sandbox ----------------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ data|attr('__class__') }}",
    "{{ data.buyer.name.upper.__self__ }}",
]


@pytest.mark.parametrize("kind", ["webhook", "email"])
async def test_sandbox_escapes_fail_the_delivery_for_good(tmp_path, settings_for, start, aiohttp_server, smtp, kind):
    """Each escape attempt in a user template: that delivery fails after one attempt with an
    'unsafe template' reason; nothing was sent; the process keeps delivering other events."""
    inbox, port = smtp
    receiver = Receiver()
    hook = await receiver.start()
    try:
        if kind == "webhook":
            sinks = {f"s{i}": {"type": "webhook", "url": hook} for i in range(len(ESCAPES))}
            templates = [{"body": expr} for expr in ESCAPES]
        else:
            sinks = {f"s{i}": {"type": "email", "host": "127.0.0.1", "port": port, "security": "none",
                               "from": "ponte@example.com", "to": ["a@example.com"]} for i in range(len(ESCAPES))}
            templates = [{"subject": "x", "text": expr} for expr in ESCAPES]
        sinks["ok"] = {"type": "file", "path": str(tmp_path / "ok.jsonl")}
        routes = [{"name": "bad", "events": ["acme.*"],
                   "to": [{"sink": f"s{i}", "template": t} for i, t in enumerate(templates)]},
                  {"name": "good", "events": ["*"], "to": ["ok"]}]
        client = await start(settings_for(sinks=sinks, routes=routes, delivery=FAST), worker=True)
        body = json.dumps({"id": "j1", "event": "acme.x", "data": {"buyer": {"name": "A"}}}).encode()
        assert (await post_signed(client, body)).status == 200
        await until(lambda: db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status = 'failed'")
                    == [(len(ESCAPES),)], 10, "every escape attempt failed")
        rows = db(tmp_path, "SELECT d.sink, d.attempt_count, d.last_error FROM deliveries d WHERE d.sink LIKE 's%'")
        for sink, attempts, error in rows:
            assert attempts == 1, (sink, attempts)
            assert "unsafe template" in error, (sink, error)
            assert "<class" not in error and "Popen" not in error and "uid=" not in error
        assert receiver.bodies == [] and inbox.messages == []
        # The process keeps running and delivering.
        later = json.dumps({"id": "j2", "event": "other.y", "data": {}}).encode()
        assert (await post_signed(client, later)).status == 200
        await until(lambda: (tmp_path / "ok.jsonl").exists()
                    and len((tmp_path / "ok.jsonl").read_text().splitlines()) == 2, 5, "file sink kept working")
        assert (await client.get("/healthz")).status == 200
    finally:
        await receiver.stop()


# --- metacharacters in ids and names -------------------------------------------------------------

NASTY_ID = "../../etc/passwd'; DROP TABLE events;--"
NASTY_EVENTS = ["myeduzz.invoice_paid\"' OR '1'='1", "x'); DELETE FROM deliveries; --", "../../../tmp/pwned",
                "%s%s%n", "a\"b'c`d", "*", "[a-z]?"]


async def test_sql_and_path_metacharacters_are_stored_verbatim(tmp_path, settings_for, start):
    """Ids and event names made of SQL and path metacharacters are stored and listed verbatim;
    the tables keep working; the file sink writes only where it was told to."""
    client = await start(settings_for(server={"admin_token": "adm-token-0123456789"}), worker=True)
    auth = {"Authorization": "Bearer adm-token-0123456789"}
    for n, name in enumerate(NASTY_EVENTS):
        doc = {"id": NASTY_ID, "event": name, "data": {"n": n, "path": "../../etc/shadow"}}
        resp = await post_signed(client, json.dumps(doc).encode())
        assert resp.status == 200 and (await resp.json())["status"] == "accepted", await resp.text()
    doc = {"id": NASTY_ID, "event": NASTY_EVENTS[0], "data": {}}
    resp = await post_signed(client, json.dumps(doc).encode())
    assert (await resp.json())["status"] == "duplicate"
    stored = db(tmp_path, "SELECT external_id, event FROM events ORDER BY id")
    assert stored == [(NASTY_ID, name.strip()) for name in NASTY_EVENTS]
    assert db(tmp_path, "SELECT COUNT(*) FROM deliveries")[0][0] == len(NASTY_EVENTS)
    resp = await client.get(f"/api/events?external_id={quote(NASTY_ID)}&limit=100", headers=auth)
    assert resp.status == 200
    assert [i["external_id"] for i in (await resp.json())["items"]] == [NASTY_ID] * len(NASTY_EVENTS)
    resp = await client.get(f"/api/events?event={quote(NASTY_EVENTS[1])}", headers=auth)
    assert [i["event"] for i in (await resp.json())["items"]] == [NASTY_EVENTS[1]]
    await until(lambda: db(tmp_path, "SELECT DISTINCT status FROM deliveries") == [("succeeded",)], 5, "delivered")
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(line["event"] for line in lines) == sorted(NASTY_EVENTS)
    assert not Path("/tmp/pwned").exists() and not (tmp_path.parent / "pwned").exists()
    database = [] if uses_postgres(tmp_path) else ["ponte.db", "ponte.db-shm", "ponte.db-wal", "ponte.db.lock"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", *database]
    # A source name that tries to climb out of /webhooks/ is just an unknown source.
    for path in ("/webhooks/..%2F..%2Fetc%2Fpasswd", "/webhooks/eduzz'%20OR%201=1", "/webhooks/%00"):
        assert (await client.post(path, data=b"{}")).status == 404


# --- secrets never logged ----------------------------------------------------------------------

EDUZZ_SECRET = "eduzz-SECRET-f00dcafe1234"
ADMIN_TOKEN = "admin-TOKEN-9f8e7d6c5b4a3"
SLACK_PATH_TOKEN = "slackPATHtoken1234567890XYZ"
BOT_TOKEN = "xoxb-BOT-TOKEN-1234567890abcdef"
SMTP_PASSWORD = "smtp-PASSWORD-abcdef123456"
SIGNING_KEY = base64.b64encode(b"signing-key-material-0123456789").decode()
SIGNING_SECRET = f"whsec_{SIGNING_KEY}"
HOOK_PATH_TOKEN = "whPATHsecret1234567890abcd"
HOOK_QUERY_TOKEN = "whQUERYsecret0987654321zyx"
URL_PASSWORD = "urlPASSWORD123456789qwe"
SECRETS = [EDUZZ_SECRET, ADMIN_TOKEN, SLACK_PATH_TOKEN, BOT_TOKEN, SMTP_PASSWORD, SIGNING_SECRET,
           SIGNING_KEY, HOOK_PATH_TOKEN, HOOK_QUERY_TOKEN, URL_PASSWORD]


class EchoAuthSMTP:
    """A raw SMTP server that offers AUTH PLAIN and refuses it, echoing the decoded credentials."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 echo.example ESMTP\r\n")
        try:
            while line := await asyncio.wait_for(reader.readline(), 5):
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250-echo.example\r\n250 AUTH PLAIN\r\n")
                elif verb == b"AUTH":
                    creds = base64.b64decode(line.split()[-1]).replace(b"\x00", b":")
                    writer.write(b"535 5.7.8 bad credentials " + creds + b"\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"502 " + line.strip() + b"\r\n")
                await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


async def echo_everything(request: web.Request) -> web.Response:
    """A receiver that fails and echoes the URL, every header and the body back."""
    body = await request.text()
    text = f"{request.path_qs} {dict(request.headers)} {body}"
    status = 500 if "slack" in request.path or "services" in request.path else 400
    if request.path.endswith("chat.postMessage"):
        auth = request.headers.get("Authorization", "")
        return web.json_response({"ok": False, "error": f"invalid_auth {auth}", "echo": text})
    return web.Response(status=status, text=text)


def secret_sinks(tmp_path: Path, base: str, smtp_port: int, silent_port: int,
                 closed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One sink of every kind, each holding a secret, each bound to fail."""
    sinks = {
        "slack_hook": {"type": "slack", "webhook_url": f"{base}/services/T0/B0/{SLACK_PATH_TOKEN}"},
        "slack_bot": {"type": "slack", "token": BOT_TOKEN, "channel": "#vendas", "api_url": f"{base}/api"},
        "mail": {"type": "email", "host": "127.0.0.1", "port": smtp_port, "security": "none",
                 "username": "ponte@example.com", "password": SMTP_PASSWORD,
                 "from": "ponte@example.com", "to": ["fin@example.com"]},
        "crm": {"type": "webhook", "url": f"{base}/hook/{HOOK_PATH_TOKEN}?key={HOOK_QUERY_TOKEN}",
                "signing_secret": SIGNING_SECRET, "headers": {"X-Api-Key": HOOK_QUERY_TOKEN}},
        "refused": {"type": "webhook", "url": f"http://user:{URL_PASSWORD}@127.0.0.1:{closed}/{HOOK_PATH_TOKEN}"},
        "silent": {"type": "webhook", "url": f"http://127.0.0.1:{silent_port}/x?token={HOOK_QUERY_TOKEN}",
                   "timeout": "300ms"},
        "ops": {"type": "file", "path": str(tmp_path / "ops.jsonl")},
    }
    routes = [{"name": "all", "events": ["myeduzz.*"], "to": [n for n in sinks if n != "ops"]},
              {"name": "ops", "events": ["ponte.*"], "to": ["ops"]}]
    return sinks, routes


@pytest.fixture
def fresh_loggers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """structlog's defaults, and an uncached logger proxy in every ``service`` module, for this test.

    ``logs.configure`` (run by CLI tests in this process) filters below its level and sets
    cache_logger_on_first_use, after which module-level loggers ignore ``capture_logs``.
    Both the configuration and the proxies are restored afterwards.
    """
    import sys

    from structlog._config import BoundLoggerLazyProxy

    saved = structlog.get_config()
    structlog.reset_defaults()

    for name, module in list(sys.modules.items()):
        if name != "service" and not name.startswith("service."):
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, BoundLoggerLazyProxy):
                fresh = structlog.get_logger(*(value._logger_factory_args or ()), **value._initial_values)
                monkeypatch.setattr(module, attr, fresh)
    yield
    structlog.configure(**saved)


async def test_secrets_never_appear_in_logs_or_api_answers(tmp_path, settings_for, start, aiohttp_server, caplog,
                                                            fresh_loggers):
    """Every kind of secret configured; deliveries fail every way (5xx and 4xx echoing the URL and
    headers, Slack API error echoing the token, SMTP 535 echoing the password, connection refused
    to a URL with a password, timeout); bad signatures and admin tokens: no secret in any log
    record (structlog and stdlib) nor in any API answer."""
    caplog.set_level(logging.DEBUG)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo_everything)
    echo = await aiohttp_server(app, access_log=None)  # the receiver's own access log is not Ponte's
    base = f"http://127.0.0.1:{echo.port}"
    smtp_server = EchoAuthSMTP()
    smtp_port = await smtp_server.start()
    silent = SilentServer()
    silent_port = await silent.start()
    closed = free_port()
    sinks, routes = secret_sinks(tmp_path, base, smtp_port, silent_port, closed)
    settings = settings_for(
        sources={"eduzz": {"type": "eduzz", "secrets": [EDUZZ_SECRET]}},
        server={"admin_token": ADMIN_TOKEN}, sinks=sinks, routes=routes,
        delivery={"max_attempts": 2, "retry_schedule": ["50ms"], "timeout": "2s"},
    )
    answers: list[str] = []
    try:
        with structlog.testing.capture_logs() as captured:
            client = await start(settings, worker=True)
            body = fixture_body("myeduzz.invoice_paid")
            ok = await client.post("/webhooks/eduzz", data=body, headers={"x-signature": sign(body, EDUZZ_SECRET)})
            answers.append(await ok.text())
            assert ok.status == 200
            for headers in ({"x-signature": sign(body, "wrong")}, {"x-signature": EDUZZ_SECRET}, {}):
                bad = await client.post("/webhooks/eduzz", data=body + b" ", headers=headers)
                answers.append(await bad.text())
                assert bad.status == 401
            for auth in (f"Bearer {ADMIN_TOKEN}x", f"Bearer {ADMIN_TOKEN[:-1]}", ADMIN_TOKEN, f"Basic {ADMIN_TOKEN}"):
                resp = await client.get("/api/events", headers={"Authorization": auth})
                answers.append(await resp.text())
                assert resp.status in (401, 403)
            await until(lambda: db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending')")
                        == [(0,)], 15, "every delivery finished")
            auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            event_id = (json.loads(answers[0]))["event_id"]
            paths = ["/api/events", f"/api/events/{event_id}", "/api/deliveries", "/api/deliveries?status=failed",
                     "/api/sinks", "/api/openapi.json", "/metrics", "/readyz", "/healthz"]
            paths += [f"/api/deliveries/{d}" for (d,) in db(tmp_path, "SELECT id FROM deliveries")]
            for path in paths:
                resp = await client.get(path, headers=auth)
                answers.append(await resp.text())
                assert resp.status == 200, (path, resp.status)
            await client.close()
    finally:
        await smtp_server.stop()
        await silent.stop()

    failed = dict(db(tmp_path, "SELECT sink, last_error FROM deliveries WHERE status = 'failed'"))
    assert set(failed) == {"slack_hook", "slack_bot", "mail", "crm", "refused", "silent"}, failed
    assert "535" in failed["mail"] and "invalid_auth" in failed["slack_bot"]
    assert any(e.get("event") == "delivery_attempted" for e in captured), "capture_logs saw nothing"
    everything = "\n".join([
        repr(captured), caplog.text, *(repr(r.__dict__) for r in caplog.records), *answers,
        repr(db(tmp_path, "SELECT * FROM attempts")), repr(db(tmp_path, "SELECT * FROM deliveries")),
        (tmp_path / "ops.jsonl").read_text() if (tmp_path / "ops.jsonl").exists() else "",
    ])
    leaked = [s for s in SECRETS if s in everything]
    assert not leaked, f"secrets leaked: {leaked}"


async def test_secrets_never_appear_on_the_stderr_of_a_real_process(tmp_path, aiohttp_server):
    """The same failures against ``ponte serve`` (JSON logs, tracebacks rendered): stderr holds no secret."""
    import aiohttp

    from failkit import Ponte, write_config

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo_everything)
    echo = await aiohttp_server(app, access_log=None)
    smtp_server = EchoAuthSMTP()
    smtp_port = await smtp_server.start()
    silent = SilentServer()
    silent_port = await silent.start()
    sinks, routes = secret_sinks(tmp_path, f"http://127.0.0.1:{echo.port}", smtp_port, silent_port, free_port())
    port = free_port()
    config = write_config(
        tmp_path, port, sources={"eduzz": {"type": "eduzz", "secrets": [EDUZZ_SECRET]}},
        server={"host": "127.0.0.1", "port": port, "admin_token": ADMIN_TOKEN}, sinks=sinks, routes=routes,
        delivery={"max_attempts": 2, "retry_schedule": ["50ms"], "timeout": "2s"})
    ponte = Ponte(tmp_path, config, port).start()
    answers: list[str] = []
    try:
        await ponte.wait_ready()
        body = fixture_body("myeduzz.invoice_paid")
        async with aiohttp.ClientSession() as http:
            for signature in (sign(body, EDUZZ_SECRET), sign(body, "wrong"), EDUZZ_SECRET):
                async with http.post(f"{ponte.url}/webhooks/eduzz", data=body,
                                     headers={"x-signature": signature}) as resp:
                    answers.append(await resp.text())
            for auth in (f"Bearer {ADMIN_TOKEN}x", ADMIN_TOKEN, f"Bearer {ADMIN_TOKEN}"):
                async with http.get(f"{ponte.url}/api/sinks", headers={"Authorization": auth}) as resp:
                    answers.append(await resp.text())
        await until(lambda: db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending')")
                    == [(0,)], 15, "every delivery finished")
        assert ponte.terminate() == 0
    finally:
        ponte.kill()
        await smtp_server.stop()
        await silent.stop()
    stderr = ponte.stderr()
    assert "delivery_attempted" in stderr and "535" in stderr
    leaked = [s for s in SECRETS if s in stderr or any(s in a for a in answers)]
    assert not leaked, f"secrets leaked: {leaked}"
