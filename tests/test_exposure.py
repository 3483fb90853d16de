"""Well-known placeholder secrets: refused on a public address, a warning on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.__main__ import main
from service.config.exposure import is_loopback, is_placeholder

REPO = Path(__file__).resolve().parent.parent
DEV = "dev-secret-change-me"


def _config(tmp_path: Path, host: str, secret: str = DEV, **extra: Any) -> Path:
    raw: dict[str, Any] = {
        "server": {"host": host, "port": 1},
        "storage": {"url": f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": [secret]}},
        "sinks": {"arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")}},
        "routes": [{"name": "tudo", "events": ["*"], "to": ["arquivo"]}],
    }
    raw.update(extra)
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.0.10", "ponte.example.net"])
def test_check_refuses_the_dev_secret_on_a_public_address(tmp_path, capsys, host):
    """`ponte check` exits 1 naming the path, never printing the secret."""
    assert main(["check", "--config", str(_config(tmp_path, host))]) == 1
    err = capsys.readouterr().err
    assert "sources.eduzz.secrets[0]: a well-known placeholder secret" in err
    assert DEV not in err


def test_check_warns_about_the_dev_secret_on_loopback(tmp_path, capsys):
    """On 127.0.0.1 the quick start still works: a warning, exit 0."""
    assert main(["check", "--config", str(_config(tmp_path, "127.0.0.1"))]) == 0
    out = capsys.readouterr()
    assert "warning: sources.eduzz.secrets[0]: a well-known placeholder secret" in out.err
    assert ": ok (" in out.out


def test_check_refuses_a_placeholder_admin_token_on_a_public_address(tmp_path, capsys):
    """A guessable admin token on 0.0.0.0 would open the admin API to anyone."""
    path = _config(tmp_path, "0.0.0.0", secret="a-real-secret-4f9c1d2e8b7a",
                   server={"host": "0.0.0.0", "admin_token": "change-me"})
    assert main(["check", "--config", str(path)]) == 1
    assert "server.admin_token: a well-known placeholder admin token" in capsys.readouterr().err


def test_a_real_secret_on_a_public_address_is_fine(tmp_path, capsys):
    """No error and no placeholder warning for a real secret."""
    path = _config(tmp_path, "0.0.0.0", secret="a-real-secret-4f9c1d2e8b7a")
    assert main(["check", "--config", str(path)]) == 0
    assert "placeholder" not in capsys.readouterr().err


def test_placeholder_sink_values_are_warnings(tmp_path, capsys):
    """A change-me password or an example.com URL is a warning with its path."""
    sinks = {
        "vendas": {"type": "slack", "webhook_url": "https://hooks.slack.com/services/T0000/B0000/change-me"},
        "crm": {"type": "webhook", "url": "https://crm.example.com/hooks"},
        "financeiro": {"type": "email", "host": "smtp.test", "password": "change-me",
                       "from": "a@b.test", "to": ["c@d.test"]},
    }
    routes = [{"name": "tudo", "events": ["*"], "to": ["vendas", "crm", "financeiro"]}]
    path = _config(tmp_path, "127.0.0.1", secret="a-real-secret-4f9c1d2e8b7a", sinks=sinks,
                   routes=routes)
    assert main(["check", "--config", str(path)]) == 0
    err = capsys.readouterr().err
    for where in ("sinks.vendas.webhook_url", "sinks.crm.url", "sinks.financeiro.password"):
        assert f"warning: {where}: looks like a placeholder" in err


def test_serve_refuses_to_start_with_the_dev_secret_on_0_0_0_0(tmp_path):
    """`ponte serve --host 0.0.0.0` exits 1 before listening or opening the database."""
    path = _config(tmp_path, "127.0.0.1")
    argv = ["serve", "--config", str(path), "--host", "0.0.0.0"]
    proc = subprocess.run([sys.executable, "-m", "service", *argv],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1
    expected = ("sources.eduzz.secrets[0]: a well-known placeholder secret "
                "while listening on '0.0.0.0'")
    assert expected in proc.stderr
    assert not (tmp_path / "ponte.db").exists()


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("", False), ("10.0.0.1", False), ("ponte.local", False),
])
def test_is_loopback(host, loopback):
    """Only loopback addresses (and localhost) count as private."""
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("value", "placeholder"), [
    (DEV, True), ("CHANGEME", True), ("secret", True), ("sk-change_me-now", True),
    ("4f9c1d2e8b7a6350", False), ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", False),
])
def test_is_placeholder(value, placeholder):
    """Known defaults and values marked change-me are placeholders."""
    assert is_placeholder(value) is placeholder


REAL = "a-real-secret-4f9c1d2e8b7a"
STRONG = "Zq8v2Lr5Nw1Kx7Pb4Hd9Tf3Jm6"  # 26 characters


@pytest.mark.parametrize(("key", "value", "why"), [
    ("admin_token", "123", "shorter than 24 characters"),
    ("ui_password", "change-me", "a well-known placeholder"),
    ("ui_password", "correct-horse-battery", "shorter than 24 characters"),
    ("admin_token", "changeme-changeme-changeme", "a well-known placeholder"),
])
def test_weak_console_and_api_credentials_are_refused_off_loopback(tmp_path, capsys, key, value, why):
    """On 0.0.0.0 a placeholder or a short admin token / console password is an error."""
    server = {"host": "0.0.0.0", "admin_token": STRONG, key: value}
    path = _config(tmp_path, "0.0.0.0", secret=REAL, server=server)
    assert main(["check", "--strict", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"server.{key}: {why}" in err and value not in err


def test_short_credentials_are_fine_on_loopback(tmp_path, capsys):
    """On 127.0.0.1 a short token is the quick start's business (no error)."""
    server = {"host": "127.0.0.1", "admin_token": "123", "ui_password": "abc"}
    path = _config(tmp_path, "127.0.0.1", secret=REAL, server=server)
    assert main(["check", "--config", str(path)]) == 0
    assert "server.admin_token" not in capsys.readouterr().err


def test_strong_credentials_pass_off_loopback(tmp_path, capsys):
    """24+ characters that are not a placeholder pass on 0.0.0.0."""
    server = {"host": "0.0.0.0", "admin_token": STRONG, "ui_password": STRONG[::-1]}
    assert main(["check", "--strict", "--config", str(_config(tmp_path, "0.0.0.0", secret=REAL,
                                                                server=server))]) == 0


@pytest.mark.parametrize(
    ("source", "path", "what"),
    [
        ({"type": "hotmart", "hottok": "change-me"}, "sources.plat.hottok", "hottok"),
        ({"type": "hotmart", "hottok": ["a-real-hottok-4f9c1d2e8b7a", "changeme"]},
         "sources.plat.hottok[1]", "hottok"),
        ({"type": "kiwify", "token": "dev-secret-change-me"}, "sources.plat.token", "token"),
        ({"type": "token", "token": ["test"], "field": "chave_unica"}, "sources.plat.token[0]",
         "token"),
    ],
)
def test_placeholder_hottoks_and_tokens_are_refused_on_a_public_address(
    tmp_path, capsys, source, path, what
):
    """Hotmart's hottok and the Kiwify and token sources' tokens are checked like secrets."""
    config = _config(tmp_path, "0.0.0.0", secret="a-real-secret-4f9c1d2e8b7a",
                     sources={"eduzz": {"type": "eduzz", "secrets": ["a-real-secret-4f9c1d2e8b7a"]},
                              "plat": source})  # fmt: skip
    assert main(["check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: a well-known placeholder {what}" in err
    values = source.get("hottok", source.get("token"))
    for value in [values] if isinstance(values, str) else values:
        assert len(value) < 6 or value not in err  # the path is named, never the value
