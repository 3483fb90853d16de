"""``ponte preview``, ``routes test`` and ``check`` for the chat sinks: what each channel gets."""

from __future__ import annotations

import json
from pathlib import Path

from service.__main__ import main
from sink_contract import CHAT_SECRETS, DISCORD_ID, DISCORD_TOKEN, TEAMS_SIG, TELEGRAM_TOKEN
from test_cli import write_config

SINKS = {
    "tg": {
        "type": "telegram",
        "token": TELEGRAM_TOKEN,
        "chat_id": -1001234567890,
        "message_thread_id": 7,
    },
    "dc": {
        "type": "discord",
        "webhook_url": f"https://discord.com/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}",
    },
    "tm": {
        "type": "teams",
        "webhook_url": f"https://x.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig={TEAMS_SIG}",
    },
}


def chat_config(tmp_path: Path) -> str:
    """A config routing sales to the three chat sinks."""
    routes = [{"name": "vendas", "events": ["myeduzz.invoice_*"], "to": list(SINKS)}]
    return write_config(tmp_path, sinks=SINKS, routes=routes)


def test_preview_shows_the_telegram_request_without_the_token(tmp_path, capsys):
    """preview prints the sendMessage body: chat, thread, HTML text, parse mode, previews off."""
    assert (
        main(["preview", "myeduzz.invoice_paid", "--sink", "tg", "--config", chat_config(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    body = json.loads(out)
    assert body["chat_id"] == -1001234567890 and body["message_thread_id"] == 7
    assert body["parse_mode"] == "HTML" and body["link_preview_options"] == {"is_disabled": True}
    assert "<b>Venda aprovada</b>" in body["text"]
    assert all(secret not in out for secret in CHAT_SECRETS)


def test_preview_shows_discord_and_teams_bodies(tmp_path, capsys):
    """Discord gets content, embeds and no mentions; Teams a message with the card attached."""
    config = chat_config(tmp_path)
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "dc", "--config", config]) == 0
    discord = json.loads(capsys.readouterr().out)
    assert discord["allowed_mentions"] == {"parse": []} and discord["embeds"][0]["fields"]
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "tm", "--config", config]) == 0
    teams = json.loads(capsys.readouterr().out)
    assert teams["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_routes_test_lists_each_channels_body(tmp_path, capsys):
    """routes test renders the event for all three channels, with no secret printed."""
    assert (
        main(["routes", "test", "myeduzz.invoice_refunded", "--config", chat_config(tmp_path)]) == 0
    )
    out = capsys.readouterr().out
    assert "Venda reembolsada" in out and '"parse_mode": "HTML"' in out and "AdaptiveCard" in out
    assert all(secret not in out for secret in CHAT_SECRETS)


def test_check_reports_a_bad_chat_sink_with_its_path(tmp_path, capsys):
    """check exits 1 naming the key, without echoing the token."""
    sinks = {**SINKS, "tg": {**SINKS["tg"], "token": "oops-secret"}}
    path = write_config(
        tmp_path, sinks=sinks, routes=[{"name": "v", "events": ["*"], "to": ["tg"]}]
    )
    assert main(["check", "--config", path]) == 1
    err = capsys.readouterr()
    assert "sinks.tg.token" in err.out + err.err and "oops-secret" not in err.out + err.err


def test_check_warns_about_a_token_sent_in_clear_and_a_teams_url_without_sig(tmp_path, capsys):
    """Valid but risky: http:// to a remote Bot API, a Workflows URL cut before ``sig=``."""
    sinks = {
        "tg": {**SINKS["tg"], "api_url": "http://telegram-proxy.example.com"},
        "tm": {
            "type": "teams",
            "webhook_url": "https://x.logic.azure.com/workflows/1/triggers/manual",
        },
    }
    routes = [{"name": "v", "events": ["*"], "to": ["tg", "tm"]}]
    assert main(["check", "--config", write_config(tmp_path, sinks=sinks, routes=routes)]) == 0
    err = capsys.readouterr().err
    assert "sinks.tg.api_url: plain http://" in err and "sinks.tm.webhook_url: no sig=" in err
    assert TELEGRAM_TOKEN not in err
