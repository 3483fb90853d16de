"""End to end through the real app: Eduzz sales reach WhatsApp (Cloud API and a gateway) and a sheet.

The fakes run on 127.0.0.1 (tests/fake_graph.py, tests/fake_google.py, and an Evolution
API gateway below); nothing secret may show in logs, the admin API, metrics or storage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import structlog
from aiohttp import web
from fake_google import SPREADSHEET, FakeGoogle, make_key, write_key
from fake_graph import PHONE_ID, TOKEN, VERSION, FakeGraph

from conftest import fixture_body, post_signed
from service.config.load import load_config
from service.config.schema import StorageConfig
from service.config.settings import build_settings
from test_delivery import db, wait_for

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "admin-token-for-the-channel-tests"
FAST = {"max_attempts": 3, "retry_schedule": ["50ms"], "timeout": "2s"}
KEYS = make_key()
BUYER_PHONE = "(11) 98765-4321"


def sale(event: str = "myeduzz.invoice_paid", **data: Any) -> bytes:
    """The catalogue's example of ``event`` with a Brazilian cellphone and ``data`` changes."""
    doc = json.loads(fixture_body(event))
    doc["data"]["buyer"]["cellphone"] = BUYER_PHONE
    doc["data"].update(data)
    return json.dumps(doc).encode()


async def start_fakes(
    aiohttp_server: Any, tmp_path: Path
) -> tuple[FakeGraph, str, FakeGoogle, str, str]:
    """The Graph API and Google fakes, with a key file whose token_uri is the fake."""
    graph = FakeGraph()
    graph_server = await aiohttp_server(graph.app(), host="127.0.0.1")
    google = FakeGoogle(KEYS[1])
    google_server = await aiohttp_server(google.app(), host="127.0.0.1")
    google.port = google_server.port
    google_base = f"http://127.0.0.1:{google_server.port}"
    key = write_key(tmp_path / "key.json", KEYS[0], f"{google_base}/token")
    return graph, f"http://127.0.0.1:{graph_server.port}/{VERSION}", google, google_base, key


async def test_a_sale_reaches_whatsapp_and_the_sheet_with_no_secret_anywhere(
    tmp_path: Path, settings_for: Any, start: Any, aiohttp_server: Any
) -> None:
    """Team text, buyer template and a sheet row; a lost Sheets answer never doubles a row."""
    graph, graph_url, google, google_base, key = await start_fakes(aiohttp_server, tmp_path)
    whatsapp = {
        "type": "whatsapp",
        "token": TOKEN,
        "phone_number_id": PHONE_ID,
        "api_url": graph_url,
    }
    sinks = {
        "equipe": {**whatsapp, "to": ["+55 21 91234-5678"]},
        "comprador": {**whatsapp, "to": ["{{ data.buyer.cellphone }}"],
                      "template": {"name": "compra_aprovada", "language": "pt_BR"}},
        "planilha": {"type": "google_sheets", "spreadsheet_id": SPREADSHEET, "sheet": "Vendas",
                     "credentials": key, "api_url": f"{google_base}/v4"},
    }  # fmt: skip
    template = {"parameters": ["{{ data.buyer.name }}", "{{ data.paid | brl }}"]}
    routes = [{"name": "vendas", "events": ["myeduzz.invoice_paid"],
               "to": ["equipe", {"sink": "comprador", "template": template}, "planilha"]}]  # fmt: skip
    settings = settings_for(
        sinks=sinks, routes=routes, delivery=FAST, server={"admin_token": ADMIN}
    )
    with structlog.testing.capture_logs() as logs:
        client = await start(settings, worker=True)
        assert (await post_signed(client, sale())).status == 200
        await wait_for(lambda: len(graph.sent) == 2 and len(google.sheets["Vendas"]) == 2)
        google.lose_answer = True  # the next append lands, but its answer is a 503
        assert (await post_signed(client, _second())).status == 200
        await wait_for(
            lambda: (
                db(tmp_path, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'")[0][0]
                == 6
            )
        )

    team, buyer = sorted(graph.sent[:2], key=lambda s: s["type"])[::-1]
    assert team["to"] == "+5521912345678" and team["text"]["body"].startswith("*💰 Venda aprovada*")
    assert "a\u2217\u2217\u2217@example.com" in team["text"]["body"]  # e-mail masked in a shared channel
    assert buyer["to"] == "+5511987654321"
    assert [p["text"] for p in buyer["template"]["components"][0]["parameters"]] == [
        "Alice Johnson",
        "R$ 301,50",
    ]
    rows = google.sheets["Vendas"]
    assert rows[0][0] == "Data" and rows[0][-1] == "ID do evento" and len(rows) == 3
    assert rows[1][3] == "alice.johnson@example.com" and rows[1][5] == 301.5
    assert rows[2][-1] == "second-sale-id"  # appended once although the first answer was lost
    responses = [
        r for (r,) in db(tmp_path, "SELECT response FROM attempts WHERE response IS NOT NULL")
    ]
    assert "row for second-sale-id already present" in responses
    await assert_nothing_secret(client, tmp_path, google, logs)


def _second() -> bytes:
    doc = json.loads(sale())
    doc["id"] = "second-sale-id"
    return json.dumps(doc).encode()


async def assert_nothing_secret(
    client: Any, tmp_path: Path, google: FakeGoogle, logs: list[Any]
) -> None:
    """No token, key or full phone number in logs, the admin API, metrics or the attempts table."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    texts = [repr(logs), await (await client.get("/metrics")).text()]
    page = await (await client.get("/api/deliveries?limit=100", headers=auth)).json()
    for item in page["items"]:
        texts.append(await (await client.get(f"/api/deliveries/{item['id']}", headers=auth)).text())
    texts.append(repr(db(tmp_path, "SELECT error, response FROM attempts")))
    assert len(texts) > 5
    secrets = [
        TOKEN,
        KEYS[0].split("-----")[2].strip()[:64],
        *google.tokens,
        "98765-4321",
        "11987654321",
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text


async def test_failures_are_recorded_without_the_number_or_token(
    tmp_path: Path, settings_for: Any, start: Any, aiohttp_server: Any
) -> None:
    """A buyer without a usable phone, and one not on WhatsApp: failed for good, masked."""
    graph, graph_url, *_ = await start_fakes(aiohttp_server, tmp_path)
    graph.on_whatsapp.discard("5511987654321")
    sinks = {"comprador": {"type": "whatsapp", "token": TOKEN, "phone_number_id": PHONE_ID, "api_url": graph_url,
                           "to": ["{{ data.buyer.cellphone }}"]}}  # fmt: skip
    routes = [{"name": "r", "events": ["myeduzz.*"], "to": ["comprador"]}]
    client = await start(settings_for(sinks=sinks, routes=routes, delivery=FAST), worker=True)
    assert (await post_signed(client, sale())).status == 200
    opened = json.loads(fixture_body("myeduzz.invoice_opened"))
    opened["data"]["buyer"]["cellphone"] = "98765-43"
    assert (await post_signed(client, json.dumps(opened).encode())).status == 200
    await wait_for(
        lambda: db(tmp_path, "SELECT count(*) FROM deliveries WHERE status = 'failed'")[0][0] == 2
    )
    errors = sorted(e for (e,) in db(tmp_path, "SELECT error FROM attempts"))
    assert any("131026" in e and "…4321" in e for e in errors)
    assert any("to[0]" in e and "not a valid phone number" in e for e in errors)
    assert not any("98765" in e or TOKEN in e for e in errors)


# --- the gateway recipe: Evolution API through the webhook sink ------------------------------


class Evolution:
    """A fake Evolution API v2: ``POST /message/sendText/{instance}`` with an ``apikey`` header."""

    def __init__(self, apikey: str, instance: str) -> None:
        self.apikey, self.instance = apikey, instance
        self.sent: list[dict[str, Any]] = []

    async def send_text(self, request: web.Request) -> web.Response:
        """Check what Evolution checks: the key, the instance, ``number`` and ``text``."""
        if request.headers.get("apikey") != self.apikey:
            return _evolution(401, "Unauthorized", "Unauthorized")
        if request.match_info["instance"] != self.instance:
            return _evolution(
                404, "Not Found", f'The "{request.match_info["instance"]}" instance does not exist'
            )
        body = await request.json()
        number, text = body.get("number"), body.get("text")
        if not isinstance(number, str) or not number.isdigit() or len(number) < 10:
            return _evolution(400, "Bad Request", [{"exists": False, "number": str(number)}])
        if not isinstance(text, str) or not text.strip():
            return _evolution(400, "Bad Request", ["text should not be empty"])
        self.sent.append(body)
        key = {
            "remoteJid": f"{number}@s.whatsapp.net",
            "fromMe": True,
            "id": f"BAE5{len(self.sent):04d}",
        }
        return web.json_response(
            {"key": key, "messageTimestamp": 1717689097, "status": "PENDING"}, status=201
        )


def _evolution(status: int, error: str, message: Any) -> web.Response:
    return web.json_response(
        {"status": status, "error": error, "response": {"message": message}}, status=status
    )


async def test_the_evolution_recipe_works_end_to_end(
    tmp_path: Path, start: Any, aiohttp_server: Any
) -> None:
    """config/examples/whatsapp-evolution.yaml: the team and the boleto buyer get their texts."""
    gateway = Evolution("evo-api-key-secret", "vendas-ponte")
    app = web.Application()
    app.router.add_post("/message/sendText/{instance}", gateway.send_text)
    server = await aiohttp_server(app, host="127.0.0.1")
    env = {"EVOLUTION_URL": f"http://127.0.0.1:{server.port}", "EVOLUTION_INSTANCE": "vendas-ponte",
           "EVOLUTION_API_KEY": "evo-api-key-secret", "WHATSAPP_TEAM_NUMBER": "5521912345678"}  # fmt: skip
    config = load_config(str(ROOT / "config" / "examples" / "whatsapp-evolution.yaml"), env=env)
    config = msgspec.structs.replace(config, storage=StorageConfig(url=f"sqlite:///{tmp_path}/ponte.db"),
                                     delivery=msgspec.convert(FAST, type(config.delivery), strict=False,
                                                              dec_hook=_duration))  # fmt: skip
    client = await start(build_settings(config), worker=True)
    evil = {"name": "*Alice* _x_", "cellphone": BUYER_PHONE}
    assert (await post_signed(client, sale(), secret="dev-secret-change-me")).status == 200
    opened = sale("myeduzz.invoice_opened", paymentMethod="bankslip")
    doc = json.loads(opened)
    doc["data"]["buyer"].update(evil)
    assert (
        await post_signed(client, json.dumps(doc).encode(), secret="dev-secret-change-me")
    ).status == 200
    await wait_for(lambda: len(gateway.sent) == 2)
    team, buyer = sorted(gateway.sent, key=lambda s: s["number"] != "5521912345678")
    assert team["number"] == "5521912345678" and team["text"].startswith(
        "*💰 Venda aprovada*\nAlice Johnson comprou"
    )
    assert buyer["number"] == "5511987654321"
    assert "\u2217Alice\u2217 \uff3fx\uff3f" in buyer["text"] and "https://urlbankslip.com.br" in buyer["text"]


def _duration(type_: type, obj: Any) -> Any:
    from service.config.schema import parse_duration

    return parse_duration(obj)


async def test_a_revoked_token_disables_the_sink_and_tells_the_team(
    tmp_path: Path, settings_for: Any, start: Any, aiohttp_server: Any
) -> None:
    """Code 190: the sink is disabled, ``ponte.sink_disabled`` says why, later sales wait."""
    _, graph_url, *_ = await start_fakes(aiohttp_server, tmp_path)
    sinks = {
        "equipe": {"type": "whatsapp", "token": "EAAG-revoked-0123456789abcdef", "phone_number_id": PHONE_ID,
                   "api_url": graph_url, "to": ["+55 21 91234-5678"]},
        "ops": {"type": "file", "path": str(tmp_path / "ops.jsonl")},
    }  # fmt: skip
    routes = [{"name": "vendas", "events": ["myeduzz.*"], "to": ["equipe"]},
              {"name": "ops", "events": ["ponte.*"], "to": ["ops"]}]  # fmt: skip
    client = await start(settings_for(sinks=sinks, routes=routes, delivery=FAST), worker=True)
    assert (await post_signed(client, sale())).status == 200
    await wait_for(lambda: "ponte.sink_disabled" in _read(tmp_path / "ops.jsonl"))
    assert (await post_signed(client, _second())).status == 200
    statuses = "SELECT status FROM deliveries WHERE sink = 'equipe' ORDER BY id"
    await wait_for(lambda: db(tmp_path, statuses)[-1:] == [("disabled",)])
    assert db(tmp_path, statuses) == [("failed",), ("disabled",)]
    notice = next(json.loads(line) for line in _read(tmp_path / "ops.jsonl").splitlines()
                  if "sink_disabled" in line)  # fmt: skip
    data = notice["body"]["data"]
    assert data["sink"] == "equipe" and data["reason"].startswith("the WhatsApp access token was refused")
    assert "EAAG-revoked" not in _read(tmp_path / "ops.jsonl")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
