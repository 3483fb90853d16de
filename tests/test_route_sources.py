"""Routes by source: ``sources: [name, …]`` limits a route to events from those sources."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import base_config, fixture_body, post_signed
from service.__main__ import main
from service.config.load import parse_config
from service.config.settings import build_settings
from service.errors import ConfigError
from service.routing.routes import compile_routes, explain, plan
from test_delivery import db

SOURCES = {"eduzz-loja": {"type": "eduzz", "secrets": ["s-loja"]},
           "eduzz-escola": {"type": "eduzz", "secrets": ["s-escola"]}}  # fmt: skip
SINKS = {
    name: {"type": "file", "path": f"/tmp/ponte-{name}.jsonl"}
    for name in ("loja", "escola", "todas")
}
ROUTES = [
    {"name": "loja", "events": ["*"], "sources": ["eduzz-loja"], "to": ["loja"]},
    {"name": "escola", "events": ["*"], "sources": ["eduzz-escola", "ponte"], "to": ["escola"]},
    {"name": "todas", "events": ["*"], "to": ["todas"]},
]
DOC: dict[str, Any] = {"event": "myeduzz.invoice_paid", "data": {}}


def raw_config(tmp_path: Path) -> dict[str, Any]:
    """Two Eduzz accounts, each with its own route, plus a route for any source."""
    return copy.deepcopy(base_config(tmp_path, sources=SOURCES, sinks=SINKS, routes=ROUTES))


@pytest.mark.parametrize(
    ("source", "sinks"),
    [("eduzz-loja", ["loja", "todas"]), ("eduzz-escola", ["escola", "todas"]), ("ponte", ["escola", "todas"]),
     (None, ["loja", "escola", "todas"])],
)  # fmt: skip
def test_plan_honours_sources(tmp_path: Path, source: str | None, sinks: list[str]) -> None:
    """A route with sources fires only for them; without, for any (None: source not known)."""
    routes = compile_routes(parse_config(raw_config(tmp_path), env={}))
    assert [p.sink for p in plan(routes, "myeduzz.invoice_paid", DOC, source)] == sinks


def test_explain_says_why_a_source_did_not_match(tmp_path: Path) -> None:
    """routes test's verdict names the source and the route's sources."""
    routes = compile_routes(parse_config(raw_config(tmp_path), env={}))
    verdict = explain(routes, "myeduzz.invoice_paid", DOC, "eduzz-escola")[0]
    assert not verdict.matched
    assert verdict.reason == "source 'eduzz-escola' is not one of its sources (eduzz-loja)"


def test_unknown_source_names_are_config_errors(tmp_path: Path) -> None:
    """Every unknown name is reported with its YAML path and a suggestion."""
    raw = raw_config(tmp_path)
    raw["routes"][0]["sources"] = ["eduzz-lojaa", "eduzz-escola", "outra"]
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={})
    assert info.value.errors == [
        "routes[0].sources[0]: unknown source 'eduzz-lojaa' (did you mean 'eduzz-loja'?)",
        "routes[0].sources[2]: unknown source 'outra'",
    ]


async def test_each_account_reaches_its_own_sinks(tmp_path: Path, start: Any) -> None:
    """Through the real app: the same event on two sources plans different deliveries."""
    settings = build_settings(parse_config(raw_config(tmp_path), env={}))
    client = await start(settings)
    body = fixture_body("myeduzz.invoice_paid")
    assert (await post_signed(client, body, source="eduzz-loja", secret="s-loja")).status == 200
    assert (await post_signed(client, body, source="eduzz-escola", secret="s-escola")).status == 200
    rows = db(tmp_path, "SELECT e.source, d.sink FROM deliveries d JOIN events e ON e.id = d.event_id "
                        "ORDER BY e.source, d.sink")  # fmt: skip
    assert rows == [("eduzz-escola", "escola"), ("eduzz-escola", "todas"),
                    ("eduzz-loja", "loja"), ("eduzz-loja", "todas")]  # fmt: skip


def test_routes_test_takes_a_source(tmp_path: Path, capsys: Any) -> None:
    """``ponte routes test --source`` and ``--expect`` entries with ``source:``."""
    config = tmp_path / "ponte.yaml"
    config.write_text(yaml.safe_dump(raw_config(tmp_path)))
    args = [
        "routes",
        "test",
        "myeduzz.invoice_paid",
        "--source",
        "eduzz-escola",
        "--config",
        str(config),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert (
        "(source eduzz-escola)" in out
        and "✘ loja: source 'eduzz-escola'" in out
        and "→ escola" in out
    )
    expect = tmp_path / "tests.yaml"
    expect.write_text(yaml.safe_dump([
        {"file": "myeduzz.invoice_paid", "source": "eduzz-loja", "sinks": ["loja", "todas"]},
        {"file": "myeduzz.invoice_paid", "source": "eduzz-escola", "sinks": ["loja", "todas"]},
    ]))  # fmt: skip
    assert main(["routes", "test", "--expect", str(expect), "--config", str(config)]) == 1
    assert "1 passed, 1 failed" in capsys.readouterr().out
