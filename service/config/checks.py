"""Load-time checks: templates compile, and fields exist on the Eduzz events a route can match.

A route whose globs all name known Eduzz events (``myeduzz.invoice_paid``,
``myeduzz.invoice_*``) has its ``where`` paths and template fields checked against the
catalogue: ``data.pricee.value`` is a config error with a "did you mean". Routes on
unknown events or app-wide globs (``*``, ``*.created``) are not checked.
"""

from __future__ import annotations

from typing import Any

from service.config.channel_checks import (
    check_channel_sinks,
    recipient_fields,
    sink_template,
    whatsapp_warnings,
)
from service.config.followup_checks import check_followups
from service.config.lint import checked_events, lint_warnings, route_errors, unknown_eduzz_glob
from service.config.meta_checks import check_meta_routes
from service.config.sale_checks import check_sale_path, is_sale_path
from service.config.schema import Config, WhatsAppConfig
from service.config.value_checks import check_values
from service.eduzz import catalogue
from service.errors import ConfigError
from service.render.formats import FORMATS
from service.render.templates import CompiledTemplate, compile_template
from service.routing.conditions import compile_where, where_leaves
from service.sinks.chat import CHAT_CONFIGS, chat_warnings
from service.sinks.registry import message_kind

_ENVELOPE = ("id", "event", "sentDate", "data")


def check_routes(config: Config, errors: list[str]) -> dict[tuple[str, str], CompiledTemplate]:
    """Compile every route template; append every problem to ``errors`` as ``path: message``."""
    templates: dict[tuple[str, str], CompiledTemplate] = {}
    check_channel_sinks(config, errors)
    check_meta_routes(config, errors)
    for i, route in enumerate(config.routes):
        events = checked_events(route.events)
        _check_where(route.where, f"routes[{i}].where", events, errors)
        for j, target in enumerate(route.targets):
            sink = config.sinks.get(target.sink)
            if (recipients := recipient_fields(sink, target.sink)) is not None:
                found: list[str] = []  # a sink's own fields, once per problem however many routes
                _check_fields(recipients[0], recipients[1], events, found)
                errors.extend(e for e in found if e not in errors)
            tree, at, fields_at = target.template, f"routes[{i}].to[{j}].template", ""
            if tree is None and (own := sink_template(sink)) is not None:
                at = f"sinks.{target.sink}"  # the sink's own template (a sheet's columns)
                tree, fields_at = own[0], f"{at}.{own[1]}"
            if tree is None or sink is None:
                continue
            compiled = _compile(tree, message_kind(sink), config.messages.timezone, at, errors)
            if compiled is not None:
                templates[(route.name, target.sink)] = compiled
                if target.digest is None or target.digest.when_busy:  # else it renders digests
                    _check_fields(compiled.fields, fields_at or at, events, errors)
    compile_reports(config, templates, errors)
    route_errors(config, errors)
    check_followups(config, errors, checked_events)
    _check_sources(config, errors)
    _check_event_names(config, errors)
    check_values(config, errors)
    return templates


def compile_reports(config: Any, templates: dict[tuple[str, str], Any], errors: list[str]) -> None:
    """Check each report's ``where``; compile its ``template`` per sink into ``templates``.

    A report's deliveries have the route ``report:<name>``, so the usual template lookup
    finds them. The template sees the report's envelope: ``data.summary``, ``data.items`` …
    """
    for i, report in enumerate(config.reports):
        compile_where(report.where, f"reports[{i}].where", errors)
        for sink_name in report.to if report.template is not None else []:
            sink = config.sinks.get(sink_name)
            if sink is None:
                continue
            at = f"reports[{i}].template"
            tz = report.timezone or config.messages.timezone
            compiled = _compile(report.template, message_kind(sink), tz, at, errors)
            if compiled is not None:
                templates[(f"report:{report.name}", sink_name)] = compiled


def _check_sources(config: Config, errors: list[str]) -> None:
    """A source without a secret (``EDUZZ_SECRET=""``) would refuse every request: an error."""
    for name, source in config.sources.items():
        if not [s for s in source.tokens if s]:
            errors.append(f"sources.{name}: no secret configured, so every request would be "
                          "refused (401); set its secret (is the variable empty?)")


def _compile(tree: dict[str, Any], kind: str, tz: str, at: str, errors: list[str]) -> CompiledTemplate | None:
    fmt = FORMATS.get(kind)
    if fmt is None:
        errors.append(f"{at}: the {kind!r} sink type has no message format (service.render.formats)")
        return None
    allowed = fmt.template_keys
    if allowed is not None:
        for key in sorted(set(tree) - allowed):
            errors.append(f"{at}.{key}: a {kind} template takes {', '.join(sorted(allowed))}")
    try:
        return compile_template(tree, kind=kind, timezone=tz, where=at)
    except ConfigError as exc:
        errors.extend(exc.errors)
        return None


def _check_where(where: Any, at: str, events: list[str] | None, errors: list[str]) -> None:
    for path, _, where_at in where_leaves(where, at):
        if is_sale_path(path):
            check_sale_path(path, where_at, events, errors)
        elif events is not None:
            _check_path(path, where_at, events, errors)


def _check_fields(fields: frozenset[str], at: str, events: list[str] | None, errors: list[str]) -> None:
    for path in sorted(fields):
        if is_sale_path(path):
            check_sale_path(path, f"{at} ({{{{ {path} }}}})", events, errors)
        elif events is not None and path.split(".", 1)[0] in _ENVELOPE:
            _check_path(path, f"{at} ({{{{ {path} }}}})", events, errors)


def _check_path(path: str, at: str, events: list[str], errors: list[str]) -> None:
    if path.split(".", 1)[0] not in _ENVELOPE:
        errors.append(f"{at}: paths start at the envelope: id, event, sentDate, data.… or sale.…")
        return
    if any(catalogue.path_exists(event, path) for event in events):
        return
    hint = next((s for e in events if (s := catalogue.suggest(e, path))), None)
    names = events[0] if len(events) == 1 else f"{len(events)} events"
    close = f" (did you mean {hint!r}?)" if hint else ""
    errors.append(f"{at}: {path!r} does not exist on {names}{close}")


def config_warnings(config: Config) -> list[str]:
    """Things that are valid but probably not what the author meant."""
    found: list[str] = lint_warnings(config)
    used = {t.sink for route in config.routes for t in route.targets}
    found += [f"sinks.{name}: no route sends anything to it" for name in config.sinks if name not in used]
    for name, cfg in config.sinks.items():
        if isinstance(cfg, CHAT_CONFIGS):
            found += chat_warnings(name, cfg)
        elif isinstance(cfg, WhatsAppConfig):
            found += whatsapp_warnings(name, cfg)
    return found


def _check_event_names(config: Config, errors: list[str]) -> None:
    """A name with an Eduzz app prefix that names no event never fires: an error."""
    for i, route in enumerate(config.routes):
        errors += [f"routes[{i}].events[{j}]: {glob!r} matches no Eduzz event{_closest_event(glob)}"
                   for j, glob in enumerate(route.events) if unknown_eduzz_glob(glob)]


def _closest_event(glob: str) -> str:
    found = catalogue.closest_event(glob)
    return f" (did you mean {found!r}?)" if found else ""
