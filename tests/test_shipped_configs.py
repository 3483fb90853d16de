"""The shipped configs work as their comments say: PONTE_PORT moves every one of them, and
the e-mail example sends through an SMTP relay without AUTH (issue 11, item 20)."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from service.config.schema import EmailConfig
from service.config.settings import load_settings
from service.sinks.email import EmailSender
from sink_contract import HOST, SmtpRecorder, free_port, outgoing
from test_examples import KEY_PEM, KEY_VARS, key_json

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted([ROOT / "config" / "ponte.yaml", *(ROOT / "config" / "examples").glob("*.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_ponte_port_moves_every_shipped_config(path, monkeypatch):
    """PONTE_PORT sets server.port in config/ponte.yaml and in every example."""
    for name in KEY_VARS:  # the sheets example needs a service-account key: a throwaway one
        monkeypatch.setenv(name, json.dumps(key_json(KEY_PEM, "https://oauth2.googleapis.com/token")))
    monkeypatch.setenv("PONTE_PORT", "18123")
    assert load_settings(str(path)).config.server.port == 18123


async def test_email_example_sends_through_a_relay_without_auth(monkeypatch):
    """Without SMTP_USERNAME/SMTP_PASSWORD the example does not log in, so a relay
    that offers no AUTH accepts the message."""
    port = free_port()
    for name, value in {"SMTP_HOST": HOST, "SMTP_PORT": str(port), "SMTP_SECURITY": "none"}.items():
        monkeypatch.setenv(name, value)
    for name in ("SMTP_USERNAME", "SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    cfg = load_settings(str(ROOT / "config" / "examples" / "financeiro-email.yaml")).config.sinks[
        "financeiro"
    ]
    assert isinstance(cfg, EmailConfig)
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname=HOST, port=port)  # offers no AUTH at all
    controller.start()
    try:
        result = await EmailSender("financeiro", cfg, timeout=5).send(
            outgoing(message={"subject": "Reembolso"})
        )
    finally:
        controller.stop()
    assert result.status_code == 250
    msg = email.message_from_bytes(
        recorder.messages[0].original_content, policy=email.policy.default
    )
    assert msg["Subject"] == "Reembolso" and msg["To"] == "financeiro@example.com"
