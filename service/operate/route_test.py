"""Routing an event without sending it: which routes match and what each sink would get.

``ponte routes test``/``ponte preview`` (the CLI) and the console's rule tester
(``/ui/regras/testar``) show the same report, built here from the current Settings.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from service.config.settings import Settings
from service.eduzz import catalogue
from service.errors import TemplateError
from service.ingest.envelope import decode
from service.operate.channel_preview import sent_extras
from service.operate.digest_preview import digest_preview
from service.render.messages import message_for
from service.routing.routes import explain, plan
from service.routing.sale import for_planning
from service.sinks.preview import request_body
from service.sinks.redaction import message_secrets, redact_doc, sink_secrets
from service.sinks.registry import message_kind
from service.store.records import Claimed


def fake_claim(body: bytes, sink: str, route: str, *, source: str = "eduzz") -> Claimed:
    """A Claimed built from a body, for rendering without a database."""
    env = decode(body)
    event = catalogue.normalize_event_name(env.event)
    return Claimed(0, 0, sink, route, 0, 0, source, event, env.external_id, env.sent_date, time.time(), body)


def routing_report(
    settings: Settings, label: str, body: bytes, source: str | None = None
) -> dict[str, Any]:
    """Which routes match an event (from ``source``) and why, and what each sink would receive."""
    env = decode(body)
    event = catalogue.normalize_event_name(env.event)
    verdicts = explain(settings.routes, event, env.doc, source)
    deliveries = []
    now, planning = time.time(), for_planning(settings.config, settings.routes, event, env.doc)
    for p in plan(settings.routes, event, env.doc, source):
        kind = message_kind(settings.config.sinks[p.sink])
        message = render_message(settings, body, p.sink, p.route, kind)
        deliveries.append({"sink": p.sink, "route": p.route, "message": message})
        digest = digest_preview(settings, p.route, p.sink, event, env.doc, body, kind)
        if digest is not None:  # the event waits for a digest; show the rule and a digest of it
            deliveries[-1]["digest"] = digest
        followup = followup_preview(settings, p.route, p.sink, planning, now)
        if followup is not None:  # it waits, and may be cancelled: say until when and by what
            deliveries[-1]["followup"] = followup
    return {"file": label, "event": event, "source": source,
            "routes": [{"route": v.route, "matched": v.matched, "reason": v.reason} for v in verdicts],
            "deliveries": deliveries, "cancels": cancelled_followups(settings, event, planning)}


def followup_preview(settings: Settings, route: str, sink: str, doc: dict[str, Any],
                     now: float) -> dict[str, Any] | None:
    """How a delivery of ``route`` to ``sink`` would wait ("scheduled in 30m unless …"), or None."""
    rule = settings.followups.targets.get((route, sink))
    return None if rule is None else rule.describe(doc, now)


def cancelled_followups(settings: Settings, event: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The follow-ups this event would cancel: route, sink and the ``same`` values it matches on."""
    found = []
    for rule in settings.followups.cancellable:
        if rule.cancelled_by(event, doc) and rule.key(doc) is not None:
            values = rule.describe_values(doc)
            found.append({"route": rule.route, "sink": rule.sink, "same": values,
                          "text": f"cancels the scheduled follow-ups of route {rule.route} to "
                                  f"{rule.sink} with the same {values}"})
    return found


def render_message(settings: Settings, body: bytes, sink: str, route: str, kind: str) -> Any:
    """What ``sink`` would be sent for ``body`` on ``route``: the request body, or the error."""
    try:
        message = message_for(settings, fake_claim(body, sink, route), kind)
    except TemplateError as exc:
        return {"error": f"template failed: {exc}"}
    if message is not None:
        claimed = fake_claim(body, sink, route)
        cfg = settings.config.sinks[sink]
        sent = request_body(cfg, message, claimed.event, claimed.source, body)
        extras = sent_extras(cfg, body, claimed.event, claimed.source, message)
        shown = {**sent, **extras} if isinstance(sent, dict) else sent
        return redact_doc(shown, [*sink_secrets(cfg), *message_secrets(message)])
    return {"forwarded_raw_body": _as_json(body)}


def _as_json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")
