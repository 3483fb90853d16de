"""``ponte check``, ``preview`` and ``routes test`` with whatsapp and google_sheets sinks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from fake_google import key_json, make_key

from conftest import base_config, fixture_body
from service.__main__ import main

KEY = json.dumps(key_json(make_key()[0], "https://oauth2.googleapis.com/token"))


def write(tmp_path: Path, credentials: str) -> str:
    """A config with a team WhatsApp, a buyer WhatsApp template and a sheet."""
    sinks = {
        "equipe": {"type": "whatsapp", "token": "t-secret-whatsapp", "phone_number_id": "123",
                   "to": ["(11) 98765-4321"]},
        "comprador": {"type": "whatsapp", "token": "t-secret-whatsapp", "phone_number_id": "123",
                      "to": ["{{ data.buyer.cellphone }}"], "template": {"name": "compra_aprovada"}},
        "planilha": {"type": "google_sheets", "spreadsheet_id": "1AbC", "sheet": "Vendas",
                     "credentials": credentials},
    }  # fmt: skip
    template = {"parameters": ["{{ data.buyer.name }}", "{{ data.paid | brl }}"]}
    routes = [{"name": "vendas", "events": ["myeduzz.invoice_paid"],
               "to": ["equipe", {"sink": "comprador", "template": template}, "planilha"]}]  # fmt: skip
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(base_config(tmp_path, sinks=sinks, routes=routes)))
    return str(path)


def test_check_accepts_the_sinks_and_refuses_a_missing_key(tmp_path: Path, capsys: Any) -> None:
    """A readable key passes; a missing key file is an error with its YAML path, exit 1."""
    assert main(["check", "--config", write(tmp_path, KEY)]) == 0
    assert main(["check", "--config", write(tmp_path, str(tmp_path / "nope.json"))]) == 1
    err = capsys.readouterr().err
    assert "sinks.planilha.credentials: cannot read key file" in err  # the path may come from a variable: not echoed


def test_preview_shows_the_whatsapp_text_and_template_parameters(
    tmp_path: Path, capsys: Any
) -> None:
    """preview prints the built-in text for the team and the parameters for the buyer."""
    config = write(tmp_path, KEY)
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "equipe", "--config", config]) == 0
    team = json.loads(capsys.readouterr().out)
    assert team["text"].startswith("*💰 Venda aprovada*") and "Alice Johnson" in team["text"]
    assert team["to"] == ["+5511987654321"]  # the recipients, normalised as the sink will send
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "comprador", "--config", config]) == 0
    buyer = json.loads(capsys.readouterr().out)
    assert buyer["parameters"] == ["Alice Johnson", "R$ 301,50"] and len(buyer["to"]) == 1


def test_preview_shows_a_bad_recipient(tmp_path: Path, capsys: Any) -> None:
    """An event whose phone is not a number: preview says so instead of a recipient list."""
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["data"]["buyer"]["cellphone"] = "123"
    (tmp_path / "sale.json").write_text(json.dumps(doc))
    config = write(tmp_path, KEY)
    assert (
        main(["preview", str(tmp_path / "sale.json"), "--sink", "comprador", "--config", config])
        == 0
    )
    error = json.loads(capsys.readouterr().out)["error"]
    assert error == ("to[0]: …23 (3 digits) is not a valid phone number: "
                     "too short (a Brazilian mobile has DDD + 9 digits)")


def test_routes_test_shows_the_sheet_row(tmp_path: Path, capsys: Any) -> None:
    """routes test --json renders the default sheet columns for a sale."""
    assert (
        main(["routes", "test", "myeduzz.invoice_paid", "--json", "--config", write(tmp_path, KEY)])
        == 0
    )
    [report] = json.loads(capsys.readouterr().out)
    sheet = next(d for d in report["deliveries"] if d["sink"] == "planilha")
    row = sheet["message"]["row"]  # exactly the row the sheet gets, event id column included
    assert row["Comprador"] == "Alice Johnson" and row["Valor (R$)"] == 301.5
    assert row["ID do evento"] == "zszf0uk65g701io8dbsckfeld"
    assert "t-secret-whatsapp" not in json.dumps(report)


async def test_a_file_sink_can_record_whatsapp_messages(tmp_path: Path, settings_for: Any, start: Any) -> None:
    """``format: whatsapp`` writes exactly the whatsapp message: try it without credentials."""
    from conftest import post_signed
    from test_delivery import wait_for

    sinks = {"ensaio": {"type": "file", "path": str(tmp_path / "zap.jsonl"), "format": "whatsapp"}}
    routes = [{"name": "r", "events": ["myeduzz.invoice_paid"], "to": ["ensaio"]}]
    client = await start(settings_for(sinks=sinks, routes=routes), worker=True)
    assert (await post_signed(client, fixture_body("myeduzz.invoice_paid"))).status == 200
    out = tmp_path / "zap.jsonl"
    await wait_for(lambda: out.exists() and out.read_text())
    message = json.loads(out.read_text())["message"]
    assert message["text"].startswith("*💰 Venda aprovada*")
