"""Meta Conversions API: ``POST {api_url}/{pixel_id}/events`` with ``{"data": [event]}``.

The event is the rendered ``event`` (a route's template, or the built-in Purchase of a
paid sale) finished by ``service.render.meta_event``: defaults filled, user_data
normalised and hashed. It is checked before anything is sent: no event for this
delivery, no ``event_name``, no identifying buyer field or an ``event_time`` older than 7
days fail the delivery for good, unsent. ``event_id`` is the order id (or the envelope
id), so a retry, a replay and a resend are one conversion for Meta.

The access token goes the Graph API way, as the ``access_token`` query parameter; it is
a secret, masked in every answer and error, and no message holds the URL. Meta answers
``{"events_received": 1, "fbtrace_id": …}`` (kept, with the event's name, id, time and
user_data keys, as the attempt's response) or a Graph API error, acted on by its
``code`` (Meta's "Handling Errors", read 2026-12-06)::

    190 (or HTTP 401 without a code)   token invalid or expired  SinkGoneError: the sink is disabled
    4, 17, 32, 613, 1, 2               rate limits / temporary   TransientSinkError (Retry-After)
    100 and any other code             invalid parameter         PermanentSinkError, Meta's message
    not a Graph API answer             by HTTP status (``http.check_status``: 5xx retried)
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec

from service.config.schema import MetaCapiConfig
from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.render import meta_event
from service.render.formats import FORMATS
from service.sinks.base import Context, Outgoing, SendResult, SinkKind, excerpt
from service.sinks.graph import describe
from service.sinks.http import (
    Reply,
    check_status,
    json_object,
    parse_retry_after,
    post,
    snippet,
    url_secrets,
)

TOKEN_CODE = 190
RETRIED = frozenset({4, 17, 32, 613, 1, 2})
GONE = ("token recusado pela Meta (código 190, inválido ou expirado): gere um novo token no "
        "Gerenciador de Eventos e troque access_token / Meta refused the access token (code 190, "
        "invalid or expired): generate a new one in Events Manager and update access_token")  # fmt: skip
JSON = "application/json"


def server_event(out: Outgoing, now: float) -> dict[str, Any]:
    """The finished server event of a delivery; PermanentSinkError when there is none to send."""
    rendered = (out.message or {}).get("event")
    if rendered is None:
        raise PermanentSinkError(
            f"no built-in Meta event for {out.event}: give the route a template with "
            "event: {event_name: …}"
        )
    doc = _envelope(out.body)
    envelope_id = str(doc.get("id") or f"ponte-{out.event_id}")
    sent = doc.get("sentDate") if isinstance(doc.get("sentDate"), str) else None
    try:
        return meta_event.finish(rendered, envelope_id=envelope_id, sent=sent, now=now)
    except meta_event.Problem as exc:
        raise PermanentSinkError(f"{out.event}: {exc}") from None


def build_payload(cfg: MetaCapiConfig, event: dict[str, Any]) -> dict[str, Any]:
    """The request body: the one event, and ``test_event_code`` when configured."""
    payload: dict[str, Any] = {"data": [event]}
    if cfg.test_event_code:
        payload["test_event_code"] = cfg.test_event_code
    return payload


def preview(cfg: MetaCapiConfig, out: Outgoing, now: float | None = None) -> dict[str, Any]:
    """What ``ponte preview`` shows: the exact body, and a warning when Meta would refuse its age."""
    event = server_event(out, time.time() if now is None else now)
    shown = build_payload(cfg, event)
    try:
        meta_event.check_age(event, time.time() if now is None else now)
    except meta_event.Problem as exc:
        shown["warning"] = f"{exc}: sent now, it would fail unsent"
    return shown


class MetaCapiSender:
    """Posts one server event per delivery to the pixel's ``/events`` edge."""

    kind = "meta_capi"

    def __init__(
        self, name: str, cfg: MetaCapiConfig, *, http: aiohttp.ClientSession, timeout: float
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.http = http
        self.timeout = timeout
        self.label = f"meta_capi sink {name!r}"
        token = quote(cfg.access_token, safe="")
        self.url = f"{cfg.api_url.rstrip('/')}/{str(cfg.pixel_id)}/events?access_token={token}"
        self.secrets = [cfg.access_token, token, *url_secrets(self.url)]

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver once; raise TransientSinkError / PermanentSinkError / SinkGoneError."""
        now = time.time()
        event = server_event(out, now)
        try:
            meta_event.check_age(event, now)
        except meta_event.Problem as exc:
            raise PermanentSinkError(f"{self.label}: {exc}, so it was not sent") from None
        data = msgspec.json.encode(build_payload(self.cfg, event))
        reply = await post(
            self.http, self.url, label=self.label, data=data,
            headers={"Content-Type": JSON}, timeout=self.timeout,
        )  # fmt: skip
        answer = json_object(reply.text)
        if 200 <= reply.status < 300 and isinstance(answer.get("events_received"), int):
            return SendResult(status_code=reply.status, response=excerpt(self._receipt(answer, event)))
        raise self._error(reply, answer)

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the app."""

    def _receipt(self, answer: dict[str, Any], event: dict[str, Any]) -> str:
        """Meta's answer and what it received, for the attempt history (no personal data)."""
        trace = snippet(str(answer.get("fbtrace_id", "")), self.secrets)
        keys = ",".join(event["user_data"])
        return (f"events_received={answer['events_received']} fbtrace_id={trace} {event['event_name']} "
                f"event_id={event['event_id']} event_time={event['event_time']} user_data={keys}")

    def _error(self, reply: Reply, answer: dict[str, Any]) -> Exception:
        error = answer.get("error")
        if not isinstance(error, dict) or not isinstance(error.get("code"), int):
            if reply.status == 401:
                return SinkGoneError(f"{self.label}: HTTP 401", status_code=401, reason=GONE)
            check_status(self.label, reply, self.secrets)  # raises unless 2xx
            return PermanentSinkError(f"{self.label}: unexpected answer from the Conversions API",
                                      status_code=reply.status)  # fmt: skip
        return self._classify(reply, error)

    def _classify(self, reply: Reply, error: dict[str, Any]) -> Exception:
        code, status = int(error["code"]), reply.status
        text = f"{self.label}: Graph API error {code}: {self._describe(error)}"
        if code == TOKEN_CODE:
            return SinkGoneError(text, status_code=status, reason=GONE)
        if code in RETRIED or status >= 500:
            wait = parse_retry_after(reply.retry_after)
            return TransientSinkError(text, status_code=status, retry_after=wait)
        return PermanentSinkError(text, status_code=status)

    def _describe(self, error: dict[str, Any]) -> str:
        """Meta's message, and its message for people (``error_user_msg``) when it has one."""
        text = describe(error, self.secrets)
        user = snippet(str(error.get("error_user_msg") or ""), self.secrets)
        trace = snippet(str(error.get("fbtrace_id") or ""), self.secrets)
        return text + (f" ({user})" if user else "") + (f" fbtrace_id={trace}" if trace else "")


def _envelope(body: bytes) -> dict[str, Any]:
    try:
        doc = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _build(name: str, cfg: MetaCapiConfig, ctx: Context) -> MetaCapiSender:
    return MetaCapiSender(name, cfg, http=ctx.http, timeout=ctx.timeout)


KIND = SinkKind(MetaCapiConfig, _build, format=FORMATS["meta_capi"], digests=False)
