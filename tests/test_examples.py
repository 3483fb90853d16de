"""The example configs pass the real config check, route as their comments say, and the docs are fresh."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fake_google import key_json, make_key

from service.__main__ import main
from service.config.checks import checked_events
from service.config.schema import EmailConfig, WebhookConfig
from service.config.settings import Settings, load_settings
from service.eduzz import catalogue
from service.routing.routes import plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "config" / "examples"
PATHS = sorted(EXAMPLES.glob("*.yaml"))
EXPECTED = {"compose", "crm-webhook", "escola-slack", "financeiro-email", "operacao", "vendas-slack",
            "whatsapp-cloud", "whatsapp-evolution", "planilha-sheets",
            "vendas-telegram", "avisos-discord-teams", "meta-conversoes", "recuperacao-pix"}
KEY_VARS = {"GOOGLE_SERVICE_ACCOUNT_FILE"}
KEY_PEM = make_key()[0]
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-)?")


def referenced(path: Path) -> list[tuple[str, bool]]:
    """The ``${VAR}`` names a file uses, each with whether it has a ``:-`` default."""
    return [(m[1], bool(m[2])) for m in VAR.finditer(path.read_text(encoding="utf-8"))]


def load_without_env(path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Load a config with none of its variables set, so only the defaults apply."""
    for name, _ in referenced(path):
        monkeypatch.delenv(name, raising=False)
        if name in KEY_VARS:  # a key is required: a throwaway one, as content (no file)
            monkeypatch.setenv(name, json.dumps(key_json(KEY_PEM, "https://oauth2.googleapis.com/token")))
    return load_settings(str(path))


def example(name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings of one example, loaded without its variables."""
    return load_without_env(EXAMPLES / f"{name}.yaml", monkeypatch)


def fixture_doc(event: str) -> dict[str, Any]:
    """The catalogue's example envelope, with the full event name."""
    doc = json.loads(catalogue.fixture_bytes(event))
    return {**doc, "event": event}


def sinks_for(settings: Settings, event: str, doc: dict[str, Any] | None = None) -> dict[str, str]:
    """sink -> route for the deliveries the example plans for an event."""
    doc = doc if doc is not None else fixture_doc(event)
    return {p.sink: p.route for p in plan(settings.routes, event, doc)}


def ops_event(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """An operational event envelope as Ponte emits it."""
    return {"id": "x", "event": name, "sentDate": "2024-01-01T00:00:00.000Z", "data": data}


def context(doc: dict[str, Any]) -> dict[str, Any]:
    """The render context of a delivery of ``doc``."""
    return {"id": doc.get("id"), "event": doc["event"], "sentDate": doc.get("sentDate"), "data": doc.get("data"),
            "source": "eduzz", "event_id": 1, "received_at": "2024-01-20T15:00:00.000Z"}


def test_the_examples_are_all_there():
    """config/examples/ holds the documented examples."""
    assert {p.stem for p in PATHS} == EXPECTED


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_passes_the_config_check_without_secrets(path, monkeypatch):
    """Each example loads fully (routes, templates, catalogue checks) with no variable set."""
    settings = load_without_env(path, monkeypatch)
    assert settings.config.routes and settings.config.sources and settings.config.sinks


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_passes_ponte_check(path, monkeypatch, capsys):
    """`ponte check --config <example>` exits 0 with no variable set (but a key where one is needed)."""
    load_without_env(path, monkeypatch)
    assert main(["check", "--config", str(path)]) == 0
    assert ": ok (" in capsys.readouterr().out


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_every_variable_has_a_default(path):
    """Every ${VAR} in an example is written ${VAR:-default}, so it runs without secrets.

    Except a Google key: ``ponte check`` reads it, so no made-up default can pass."""
    assert all(has_default or name in KEY_VARS for name, has_default in referenced(path)), referenced(path)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_uses_the_default_storage(path, monkeypatch):
    """Every example keeps the database in data/ponte.db beside the file (a copy of it);
    compose's is mounted as /app/config/ponte.yaml, so its data/ is one level up."""
    base = path.parent.parent if path.stem == "compose" else path.parent
    url = load_without_env(path, monkeypatch).config.storage.url
    assert url == f"sqlite:///{base.resolve() / 'data' / 'ponte.db'}"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_starts_with_a_comment_and_uses_every_sink(path, monkeypatch):
    """Each example explains itself in a header comment, and every sink it defines is routed to."""
    assert path.read_text(encoding="utf-8").startswith("# ")
    config = load_without_env(path, monkeypatch).config
    used = {t.sink for route in config.routes for t in route.targets}
    assert used == set(config.sinks)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_templates_render_on_the_catalogue_fixtures(path, monkeypatch):
    """Every custom template renders without error on each catalogue event its route can match."""
    settings = load_without_env(path, monkeypatch)
    for route in settings.config.routes:
        for event in checked_events(route.events) or []:
            for target in route.targets:
                template = settings.templates.get((route.name, target.sink))
                if template is not None:
                    assert template.render(context(fixture_doc(event)))


def test_vendas_slack_sends_big_sales_with_the_custom_blocks(monkeypatch):
    """A paid invoice of R$ 100+ reaches the sales channel once, through the Block Kit route."""
    settings = example("vendas-slack", monkeypatch)
    doc = fixture_doc("myeduzz.invoice_paid")
    assert sinks_for(settings, "myeduzz.invoice_paid", doc) == {"vendas": "vendas-grandes"}
    message = settings.templates[("vendas-grandes", "vendas")].render(context(doc))
    assert message["blocks"][0]["type"] == "header" and "R$ 301,50" in message["text"]


def test_vendas_slack_small_sales_use_the_builtin_message(monkeypatch):
    """A sale under R$ 100 falls through to the plain route (the built-in message)."""
    settings = example("vendas-slack", monkeypatch)
    doc = fixture_doc("myeduzz.invoice_paid")
    doc["data"]["price"]["value"] = 99
    assert sinks_for(settings, "myeduzz.invoice_paid", doc) == {"vendas": "vendas"}
    assert ("vendas", "vendas") not in settings.templates


@pytest.mark.parametrize("event", ["myeduzz.invoice_refunded", "myeduzz.invoice_chargeback"])
def test_financeiro_gets_refunds_and_stops(monkeypatch, event):
    """Refunds and chargebacks go to finance only: stop keeps them out of the audit route."""
    settings = example("financeiro-email", monkeypatch)
    assert sinks_for(settings, event) == {"financeiro": "reembolsos-e-chargebacks"}
    template = settings.templates[("reembolsos-e-chargebacks", "financeiro")]
    subject = template.render(context(fixture_doc(event)))["subject"]
    assert ("Chargeback" if event.endswith("chargeback") else "Reembolso") in subject
    assert sinks_for(settings, "myeduzz.invoice_paid") == {"arquivo": "auditoria"}


def test_crm_webhook_gets_everything_signed_and_ordered(monkeypatch):
    """Every event goes to the CRM unchanged, signed (whsec_) and ordered by data.id."""
    settings = example("crm-webhook", monkeypatch)
    crm = settings.config.sinks["crm"]
    assert isinstance(crm, WebhookConfig)
    assert crm.ordered_by == "data.id" and (crm.signing_secret or "").startswith("whsec_")
    for event in catalogue.EVENT_NAMES:
        assert sinks_for(settings, event) == {"crm": "tudo-para-o-crm"}
    assert not settings.templates  # the raw body is forwarded


@pytest.mark.parametrize("event", ["alpaclass.student_course_finished", "alpaclass.student_module_finished",
                                   "nutror.module_completed"])
def test_escola_slack_celebrates_finished_courses_and_modules(monkeypatch, event):
    """Finished courses and modules (AlpaClass, Nutror) reach the school channel; other events do not."""
    settings = example("escola-slack", monkeypatch)
    assert set(sinks_for(settings, event)) == {"escola"}
    assert sinks_for(settings, "myeduzz.invoice_paid") == {}


@pytest.mark.parametrize("name, data", [
    ("ponte.delivery_failed", {"delivery_id": 1, "event_id": 2, "event": "myeduzz.invoice_paid", "sink": "crm",
                               "route": "r", "attempts": 10, "error": "HTTP 500", "status_code": 500}),
    ("ponte.sink_disabled", {"sink": "crm", "reason": "410 Gone"}),
    ("ponte.breaker_opened", {"sink": "crm", "failures": 5, "cooldown_seconds": 60.0, "error": "HTTP 503"}),
])  # fmt: skip
def test_operacao_sends_ponte_events_to_ops_only(monkeypatch, name, data):
    """Each ponte.* event reaches the ops channel with its own message, never the catch-all CRM route."""
    settings = example("operacao", monkeypatch)
    doc = ops_event(name, data)
    routed = sinks_for(settings, name, doc)
    assert set(routed) == {"ops"}
    text = settings.templates[(routed["ops"], "ops")].render({**context(doc), "source": "ponte"})["text"]
    assert "crm" in text


def test_operacao_keeps_eduzz_events_out_of_ops(monkeypatch):
    """Eduzz events go to the CRM and never to the ops channel."""
    settings = example("operacao", monkeypatch)
    assert sinks_for(settings, "myeduzz.invoice_paid") == {"crm": "eduzz-para-o-crm"}


def test_compose_example_mails_to_mailpit(monkeypatch):
    """The compose config sends e-mail to mailpit:1025 in plain SMTP and keeps a file copy."""
    settings = example("compose", monkeypatch)
    email = settings.config.sinks["email"]
    assert isinstance(email, EmailConfig)
    assert (email.host, email.port, email.security, email.username) == ("mailpit", 1025, "none", None)
    arquivo = Path(settings.config.sinks["arquivo"].path)  # beside the database: the data volume
    assert arquivo.parent == Path(settings.config.storage.sqlite_path).parent
    assert sinks_for(settings, "myeduzz.invoice_paid") == {"email": "faturas-por-email", "arquivo": "tudo-no-arquivo"}


# --- generated docs ------------------------------------------------------------------------


def gen_docs() -> ModuleType:
    """tools/gen_docs.py, imported as a module."""
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_docs_are_up_to_date():
    """`python tools/gen_docs.py --check` passes: docs/configuration.md and docs/events.md are fresh."""
    done = subprocess.run([sys.executable, "tools/gen_docs.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_gen_docs_refuses_a_config_key_without_description(monkeypatch):
    """Dropping one key's description makes the generator fail, so docs cannot drift."""
    tool = gen_docs()
    monkeypatch.delitem(tool.DESCRIPTIONS, "ServerConfig.port")
    with pytest.raises(tool.DocError, match="ServerConfig.port"):
        tool.configuration_md()


def test_gen_docs_refuses_a_stale_description(monkeypatch):
    """A description for a key that no longer exists makes the generator fail."""
    tool = gen_docs()
    monkeypatch.setitem(tool.DESCRIPTIONS, "ServerConfig.no_such_key", "gone")
    with pytest.raises(tool.DocError, match="no_such_key"):
        tool.configuration_md()


def test_reference_documents_every_config_key():
    """docs/configuration.md has a row for every key of every config Struct it covers."""
    tool = gen_docs()
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in tool.DESCRIPTIONS:
        assert f"| `{key.split('.', 1)[1]}` |" in text, key


def test_event_catalogue_covers_every_event():
    """docs/events.md has a section, with its title, for each of the 63 catalogue events."""
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert len(catalogue.EVENT_NAMES) == 63
    for name in catalogue.EVENT_NAMES:
        spec = catalogue.spec(name)
        assert spec is not None
        assert f"#### `{name}`" in text and spec.title in text, name
