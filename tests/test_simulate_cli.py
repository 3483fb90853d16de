"""``ponte simulate`` and ``ponte routes test``: the ping, name suggestions, and ``--set``."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from conftest import SECRET
from service.__main__ import main
from test_delivery import db, wait_for


async def simulate(url: str, *args: str) -> tuple[int, str, str]:
    """Run ``ponte simulate`` in its own process while this loop keeps serving the app."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "simulate", *args, "--url", url, "--secret", SECRET,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_simulate_ping_is_answered_ignored_and_stored(tmp_path, settings_for, start):
    """``simulate ping`` sends the signed verification event: 200 ignored, no delivery planned."""
    client = await start(settings_for(), worker=True)
    code, out, err = await simulate(str(client.make_url("/webhooks/eduzz")), "ping")
    assert code == 0, err
    assert '"status":"ignored"' in out
    assert db(tmp_path, "SELECT event, status FROM events") == [("ping", "ignored")]
    assert db(tmp_path, "SELECT COUNT(*) FROM deliveries") == [(0,)]


async def test_set_price_changes_the_built_in_message(tmp_path, settings_for, start):
    """``--set data.price.value=99`` (the README's example) shows R$ 99,00 in the sale message."""
    sinks = {"arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl"), "format": "slack"}}
    client = await start(settings_for(sinks=sinks), worker=True)
    url = str(client.make_url("/webhooks/eduzz"))
    code, _, err = await simulate(url, "myeduzz.invoice_paid", "--set", "data.price.value=99")
    assert code == 0, err
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)])
    text = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])["message"]["text"]
    assert "R$ 99,00" in text and "301,50" not in text


def test_set_paid_alone_keeps_the_list_price():
    """Setting both prices (a discount) keeps each as given; ``paid`` alone mirrors to ``price``."""
    from service.commands.simulate import build_body

    both = json.loads(build_body("myeduzz.invoice_paid", ["data.price.value=100", "data.paid.value=80"]))
    assert (both["data"]["price"]["value"], both["data"]["paid"]["value"]) == (100, 80)
    paid = json.loads(build_body("myeduzz.invoice_paid", ["data.paid.value=80"]))
    assert (paid["data"]["price"]["value"], paid["data"]["paid"]["value"]) == (80, 80)


@pytest.mark.parametrize(("typo", "meant"), [
    ("myeduzz.invoice_payd", "myeduzz.invoice_paid"),
    ("invoice_payd", "myeduzz.invoice_paid"),
    ("MyEduzz.Invoice_Paid", "myeduzz.invoice_paid"),
    ("pnig", "ping"),
])
def test_simulate_suggests_the_closest_event_name(typo, meant, capsys):
    """A mistyped event name is refused (exit 2) with the closest catalogue name."""
    assert main(["simulate", typo, "--url", "http://127.0.0.1:9/x", "--secret", "s"]) == 2
    assert f"did you mean {meant}?" in capsys.readouterr().err


def test_simulate_without_a_close_name_says_so_plainly(capsys):
    """Nothing close: no suggestion, just where the names are."""
    assert main(["simulate", "zzzz", "--url", "http://127.0.0.1:9/x", "--secret", "s"]) == 2
    err = capsys.readouterr().err
    assert "unknown event 'zzzz'" in err and "did you mean" not in err


def test_routes_test_suggests_the_closest_event_name(tmp_path: Path, capsys):
    """``routes test`` with a mistyped catalogue name names the closest one."""
    import yaml

    from conftest import base_config

    (tmp_path / "ponte.yaml").write_text(yaml.safe_dump(base_config(tmp_path)))
    assert main(["routes", "test", "myeduzz.invoice_payd", "--config", str(tmp_path / "ponte.yaml")]) == 2
    assert "did you mean myeduzz.invoice_paid?" in capsys.readouterr().err
