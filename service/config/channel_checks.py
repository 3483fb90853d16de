"""Load-time checks of the whatsapp and google_sheets sinks, and their sink-level templates.

``check_channel_sinks`` reports, with YAML paths: ``to`` entries that do not compile or
fixed numbers that are not phone numbers (``sinks.x.to[1]``), and a service-account key
that is missing or malformed (``sinks.planilha.credentials``). ``sink_template`` gives
the template a sink brings itself (a google_sheets sink's ``columns``), used by routes
that set none.
"""

from __future__ import annotations

from typing import Any

from service.config.schema import Config, GoogleSheetsConfig, SinkConfig, WhatsAppConfig
from service.errors import ConfigError
from service.render.phones import PhoneError, to_e164
from service.render.templates import compile_template
from service.sinks.google_auth import ServiceAccountKeyError, build_credentials
from service.sinks.recipients import recipient_template
from service.sinks.whatsapp import compile_recipients


def check_channel_sinks(config: Config, errors: list[str]) -> None:
    """Append every problem of the whatsapp / google_sheets sinks to ``errors``."""
    for name, cfg in config.sinks.items():
        if isinstance(cfg, WhatsAppConfig):
            _check_recipients(cfg, f"sinks.{name}.to", errors)
        elif isinstance(cfg, GoogleSheetsConfig):
            _check_key(cfg, f"sinks.{name}.credentials", errors)
            _check_headers(cfg, f"sinks.{name}.columns", errors)


def whatsapp_warnings(name: str, cfg: WhatsAppConfig) -> list[str]:
    """Free text to numbers read from the event (buyers) fails outside WhatsApp's 24-hour
    window (the buyer has not written first): warn, one line per such ``to`` entry."""
    if cfg.template is not None:
        return []
    return [f"sinks.{name}.to[{i}]: free text (no `template`) to numbers taken from the event: "
            "WhatsApp delivers it only within 24 hours of the person's last message; "
            "set `template` (an approved template) to reach buyers"
            for i, entry in enumerate(cfg.to) if _from_event(recipient_template(entry))]


def _from_event(entry: str) -> bool:
    return "{{" in entry or "{%" in entry


def sink_template(cfg: SinkConfig | None) -> tuple[dict[str, Any], str] | None:
    """``({"columns": [...]}, "columns")`` for a google_sheets sink with columns, else None."""
    if isinstance(cfg, GoogleSheetsConfig) and cfg.columns:
        columns = [{"header": c.header, "value": c.value} for c in cfg.columns]
        return {"columns": columns}, "columns"
    return None


def recipient_fields(cfg: SinkConfig | None, name: str) -> tuple[frozenset[str], str] | None:
    """The event paths a whatsapp sink's ``to`` reads, and their YAML path (else None)."""
    if not isinstance(cfg, WhatsAppConfig):
        return None
    try:
        compiled = compile_recipients(cfg.to, f"sinks.{name}.to")
    except ConfigError:  # reported by check_channel_sinks
        return None
    return compiled.fields, f"sinks.{name}.to"


def _check_recipients(cfg: WhatsAppConfig, at: str, errors: list[str]) -> None:
    for i, entry in enumerate(recipient_template(t) for t in cfg.to):
        if "{{" in entry or "{%" in entry:
            try:
                compile_template(entry, kind="webhook", where=f"{at}[{i}]")
            except ConfigError as exc:
                errors.extend(exc.errors)
            continue
        try:
            to_e164(entry)
        except PhoneError as exc:
            errors.append(f"{at}[{i}]: {exc} (write it like +55 11 98765-4321)")


def _check_key(cfg: GoogleSheetsConfig, at: str, errors: list[str]) -> None:
    try:
        build_credentials(cfg.credentials)
    except ServiceAccountKeyError as exc:
        errors.append(f"{at}: {exc}")


def _check_headers(cfg: GoogleSheetsConfig, at: str, errors: list[str]) -> None:
    seen: set[str] = set()
    for i, column in enumerate(cfg.columns or []):
        if column.header in seen:
            errors.append(f"{at}[{i}].header: duplicate column {column.header!r}")
        seen.add(column.header)
