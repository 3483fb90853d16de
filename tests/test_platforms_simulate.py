"""``ponte simulate`` for Hotmart and Kiwify: authenticated as each platform does."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from platformkit import HOTTOK, KIWIFY_TOKEN, SOURCES, kiwify_signature

from conftest import SECRET
from service.__main__ import main
from service.commands.simulate import build_body, request_for
from test_delivery import db, wait_for


async def simulate(url: str, secret: str, *args: str) -> tuple[int, str, str]:
    """Run ``ponte simulate`` in its own process while this loop keeps serving the app."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "simulate", *args, "--url", url, "--secret", secret,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


def _settings(settings_for, tmp_path):
    sinks = {"arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl"), "format": "slack"}}
    sources = {"eduzz": {"type": "eduzz", "secrets": [SECRET]}, **SOURCES}
    return settings_for(sources=sources, sinks=sinks)


@pytest.mark.parametrize(
    ("event", "source", "secret", "setting", "shown"),
    [
        ("hotmart.purchase_approved", "hotmart", HOTTOK, "data.purchase.price.value=99", "R$ 99,00"),
        ("kiwify.order_approved", "kiwify", KIWIFY_TOKEN, "Commissions.charge_amount=9900", "R$ 99,00"),
    ],
)
async def test_simulate_authenticates_as_the_platform(
    tmp_path, settings_for, start, event, source, secret, setting, shown
):
    """Accepted under the platform's event name; the built-in message shows the --set amount."""
    client = await start(_settings(settings_for, tmp_path), worker=True)
    url = str(client.make_url(f"/webhooks/{source}"))
    code, out, err = await simulate(url, secret, event, "--set", setting)
    assert code == 0, err
    assert '"status":"accepted"' in out and f"{event} → " in out
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)])
    assert db(tmp_path, "SELECT event, schema_error FROM events") == [(event, None)]
    text = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])["message"]["text"]
    assert shown in text
    code, _, _ = await simulate(url, secret, event)  # a fresh id each time: not a duplicate
    assert code == 0 and db(tmp_path, "SELECT COUNT(*) FROM events") == [(2,)]


@pytest.mark.parametrize(
    ("event", "source"), [("hotmart.purchase_approved", "hotmart"), ("kiwify.order_approved", "kiwify")]
)
async def test_simulate_with_a_wrong_secret_is_refused(tmp_path, settings_for, start, event, source):
    """A wrong hottok or token: HTTP 401, exit 1, nothing stored."""
    client = await start(_settings(settings_for, tmp_path))
    code, out, _ = await simulate(str(client.make_url(f"/webhooks/{source}")), "errado", event)
    assert code == 1 and "HTTP 401" in out
    assert db(tmp_path, "SELECT COUNT(*) FROM events") == [(0,)]


def test_the_request_carries_the_platform_credentials():
    """Hotmart: the hottok header; Kiwify: ?signature= HMAC-SHA1 of the exact body, other
    query parameters kept; Eduzz: x-signature."""
    body = build_body("kiwify.order_approved", [], "pedido-1")
    assert json.loads(body)["order_id"] == "pedido-1"
    url, headers = request_for("kiwify.order_approved", "http://h/webhooks/kiwify?a=1", body, "tok")
    assert url == f"http://h/webhooks/kiwify?a=1&signature={kiwify_signature(body, 'tok')}"
    assert "x-hotmart-hottok" not in headers
    hot = build_body("hotmart.purchase_complete", [], "env-1")
    doc = json.loads(hot)
    assert (doc["id"], doc["event"]) == ("env-1", "PURCHASE_COMPLETE")
    url, headers = request_for("hotmart.purchase_complete", "http://h/x", hot, "hk")
    assert (url, headers["x-hotmart-hottok"]) == ("http://h/x", "hk")
    cart = json.loads(build_body("kiwify.abandoned_cart", [], "cart-1"))
    assert cart["id"] == "cart-1" and "order_id" not in cart
    assert "x-signature" in request_for("myeduzz.invoice_paid", "http://h/x", body, "s")[1]


def test_a_mistyped_platform_event_is_refused_with_the_closest_name(capsys):
    """Exit 2 and the closest example name."""
    assert main(["simulate", "hotmart.purchase_aproved", "--url", "http://127.0.0.1:9/x", "--secret", "s"]) == 2
    assert "did you mean hotmart.purchase_approved?" in capsys.readouterr().err
