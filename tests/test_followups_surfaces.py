"""Follow-ups in what routing shows without sending: ``ponte routes test``, ``ponte preview``
and the console's Regras → Testar say "scheduled in 30m unless …" (and quiet hours)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from console_helpers import console_sections, csrf_of, log_in

from service.__main__ import main
from service.routing.followups import span
from service.routing.quiet_hours import compile_quiet_hours
from test_cli import write_config

UNLESS = {"events": ["myeduzz.invoice_paid", "myeduzz.invoice_canceled"], "same": ["sale.order_id"]}


def followup_config(**target: Any) -> dict[str, Any]:
    """A buyer e-mail 30 minutes after a waiting invoice, unless paid or cancelled."""
    rule = {"sink": "comprador", "after": "30m", "unless": UNLESS} | target
    return {"sinks": {"comprador": {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
                      "equipe": {"type": "webhook", "url": "http://127.0.0.1:9/equipe"}},
            "routes": [{"name": "pix-esperando", "events": ["myeduzz.invoice_waiting_payment"], "to": [rule]},
                       {"name": "vendas", "events": ["myeduzz.invoice_paid"], "to": ["equipe"]}]}


def test_routes_test_says_scheduled_in_30m_unless(tmp_path, capsys):
    """Text and JSON; the cancelling event says what it cancels; a plain target says nothing."""
    config = write_config(tmp_path, **followup_config())
    assert main(["routes", "test", "myeduzz.invoice_waiting_payment", "--config", config]) == 0
    out = capsys.readouterr().out
    assert ("⏰ scheduled in 30m unless myeduzz.invoice_paid or myeduzz.invoice_canceled "
            "with the same sale.order_id (12345678)") in out
    assert main(["routes", "test", "myeduzz.invoice_paid", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "⏰" not in out and ("✖ cancels the scheduled follow-ups of route pix-esperando to comprador "
                                "with the same sale.order_id=12345678") in out
    assert main(["routes", "test", "myeduzz.invoice_waiting_payment", "--json", "--config", config]) == 0
    [report] = json.loads(capsys.readouterr().out)
    followup = report["deliveries"][0]["followup"]
    assert followup["after"] == "30m" and followup["due_in"] == "30m" and followup["same"] == ["sale.order_id"]
    assert followup["values"] == {"sale.order_id": "12345678"} and followup["quiet_hours"] is None
    due = datetime.fromisoformat(followup["due_at"].replace("Z", "+00:00"))
    assert 1790 < (due - datetime.now(UTC)).total_seconds() <= 1800


def test_routes_test_with_quiet_hours_around_the_clock(tmp_path, capsys):
    """A window around now holds the follow-up: the report says so, due at the window's end."""
    now = datetime.now(UTC)
    start, end = f"{now.hour:02d}:00", f"{(now.hour + 2) % 24:02d}:00"  # this hour and the next
    quiet = {"from": start, "to": end, "timezone": "UTC"}
    config = write_config(tmp_path, **followup_config(after="1m", quiet_hours=quiet))
    assert main(["routes", "test", "myeduzz.invoice_waiting_payment", "--json", "--config", config]) == 0
    [report] = json.loads(capsys.readouterr().out)
    followup = report["deliveries"][0]["followup"]
    window = compile_quiet_hours(start, end, "UTC")
    assert not isinstance(window, str)
    assert window.holds(now.timestamp() + 60)
    assert followup["quiet_hours"] == f"{start}–{end} UTC" and followup["held_by_quiet_hours"] is True
    assert followup["text"].endswith(f"; quiet hours {start}–{end} UTC hold it until they end")
    due = datetime.fromisoformat(followup["due_at"].replace("Z", "+00:00"))
    assert due == now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)


def test_preview_of_a_follow_up_sink_says_when(tmp_path, capsys):
    """preview prints the message and the follow-up (JSON), and the sentence on stderr."""
    config = write_config(tmp_path, **followup_config())
    args = ["preview", "myeduzz.invoice_waiting_payment", "--sink", "comprador", "--config", config]
    assert main(args) == 0
    captured = capsys.readouterr()
    shown = json.loads(captured.out)
    assert "message" in shown and shown["followup"]["text"].startswith("scheduled in 30m unless myeduzz.invoice_paid")
    assert "comprador (route pix-esperando): scheduled in 30m unless" in captured.err
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "equipe", "--config", config]) == 0
    assert "followup" not in capsys.readouterr().out  # a plain sink: the message alone, as before


def test_span():
    assert [span(s) for s in (30, 90, 1800, 10800, 93600, 0)] == ["30s", "1m30s", "30m", "3h", "1d2h", "0s"]


async def test_console_route_tester_says_scheduled_pt_first(settings_for, start):
    """Regras → Testar: "agendado para daqui a 30m, a menos que chegue …" (English by the switch)."""
    client = await start(settings_for(**console_sections(), **followup_config()))
    await log_in(client)
    csrf = await csrf_of(client, "/ui/regras")
    form = {"csrf": csrf, "event": "myeduzz.invoice_waiting_payment"}
    html = await (await client.post("/ui/regras/testar", data=form)).text()
    assert ("⏰ agendado para daqui a 30m, a menos que chegue myeduzz.invoice_paid ou "
            "myeduzz.invoice_canceled com o mesmo sale.order_id (12345678)") in html
    paid = await (await client.post("/ui/regras/testar", data=form | {"event": "myeduzz.invoice_paid"})).text()
    assert "cancela as mensagens agendadas da rota pix-esperando para comprador" in paid
    client.session.cookie_jar.update_cookies({"lang": "en"})
    html = await (await client.post("/ui/regras/testar", data=form)).text()
    assert "⏰ scheduled in 30m unless myeduzz.invoice_paid or myeduzz.invoice_canceled" in html
