"""WhatsApp Business Cloud API: ``POST {api_url}/{phone_number_id}/messages``, Bearer token.

One delivery may have several recipients (``to``: fixed numbers and/or templates over
the event). They are all rendered and normalised to E.164 before anything is sent: a
recipient that is missing or not a phone number fails the delivery permanently and
nobody gets it. Then each recipient gets its own request. Per-recipient progress is
kept for the delivery: a retry (or a replay) never resends to a recipient that already
got the message while this Ponte runs (see docs/channels-whatsapp-sheets.md).

Errors come from the Graph API's ``error.code`` (see ``service.sinks.graph``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import aiohttp
import msgspec

from service.config.schema import WhatsAppConfig
from service.errors import PermanentSinkError, SinkError, SinkGoneError, TransientSinkError
from service.render.formats import FORMATS
from service.render.phones import PhoneError, mask, to_e164
from service.render.templates import CompiledTemplate, compile_template
from service.render.whatsapp_format import clip_text, whatsapp_escape
from service.sales import data_of, sale_of
from service.sinks.base import Context, Outgoing, SendResult, SinkKind, excerpt
from service.sinks.graph import check_graph_reply
from service.sinks.http import post
from service.sinks.recipients import recipient_template

PROGRESS_LIMIT = 10_000  # deliveries whose per-recipient progress is remembered
PARAMETER_LIMIT = 1024  # characters of one template body parameter
JSON = "application/json"


def compile_recipients(to: list[str], where: str) -> CompiledTemplate:
    """The ``to`` list as one template (plain text, no escaping); ConfigError on bad syntax."""
    return compile_template([recipient_template(t) for t in to], kind="webhook", where=where)


def event_context(out: Outgoing) -> dict[str, Any]:
    """The template context of a delivery, read from its raw body (as routes see it)."""
    try:
        doc = msgspec.json.decode(out.body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    return {"id": doc.get("id"), "event": out.event, "sentDate": doc.get("sentDate"),
            "data": data_of(out.event, doc),
            "sale": sale_of(out.event, doc), "source": out.source, "event_id": out.event_id}  # fmt: skip


def recipients(template: CompiledTemplate, out: Outgoing) -> list[str]:
    """Every recipient in E.164, in order, without repeats; PermanentSinkError if one is bad."""
    found: list[str] = []
    for i, value in enumerate(template.render(event_context(out))):
        try:
            number = to_e164(value)
        except PhoneError as exc:
            raise PermanentSinkError(f"to[{i}]: {exc}") from None
        if number not in found:
            found.append(number)
    return found


def text_payload(number: str, text: str) -> dict[str, Any]:
    """A free-text message (only delivered within 24 hours of the person's last message)."""
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": number,
            "type": "text", "text": {"preview_url": False, "body": clip_text(text)}}  # fmt: skip


def template_payload(
    number: str, name: str, language: str, parameters: list[Any]
) -> dict[str, Any]:
    """An approved template message with its body parameters (allowed at any time)."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        params = [{"type": "text", "text": _parameter(p)} for p in parameters]
        template["components"] = [{"type": "body", "parameters": params}]
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": number,
            "type": "template", "template": template}  # fmt: skip


def fallback_text(out: Outgoing) -> str:
    """The text when there is no message: the event and its source, made inert."""
    return f"Ponte: evento {whatsapp_escape(out.event)} recebido de {whatsapp_escape(out.source)}"


def _parameter(value: Any) -> str:
    """Meta refuses empty parameters and ones with line breaks, tabs or runs of spaces."""
    text = " ".join(("" if value is None else str(value)).split())
    return clip_text(text, PARAMETER_LIMIT) or "—"


class WhatsAppSender:
    """Sends each delivery to its recipients, one Graph API request per recipient."""

    kind = "whatsapp"

    def __init__(
        self, name: str, cfg: WhatsAppConfig, *, http: aiohttp.ClientSession, timeout: float
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.http = http
        self.timeout = timeout
        self.label = f"whatsapp sink {name!r}"
        self.url = f"{cfg.api_url.rstrip('/')}/{cfg.phone_number_id}/messages"
        self.secrets = [cfg.token]
        self.to = compile_recipients(cfg.to, f"sinks.{name}.to")
        self.progress: OrderedDict[int, set[str]] = OrderedDict()

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver to every recipient not yet served; raise the worst failure, if any."""
        try:
            numbers = recipients(self.to, out)
        except PermanentSinkError as exc:
            raise PermanentSinkError(f"{self.label}: {exc}") from None
        done = self._done(out.delivery_id)
        failures: list[SinkError] = []
        ids: list[str] = []
        for number in [n for n in numbers if n not in done]:
            try:
                ids.append(await self._send_one(number, out))
                done.add(number)
            except SinkError as exc:
                failures.append(exc)
                if isinstance(exc, (TransientSinkError, SinkGoneError)):
                    break  # limited, down or token refused: the others would fare the same
        if failures:
            raise self._summary(failures, len(done), len(numbers))
        self.progress.pop(out.delivery_id, None)
        return SendResult(
            status_code=200, response=excerpt(f"sent to {len(numbers)}: {' '.join(ids)}")
        )

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the app."""

    def _done(self, delivery_id: int) -> set[str]:
        done = self.progress.setdefault(delivery_id, set())
        self.progress.move_to_end(delivery_id)
        while len(self.progress) > PROGRESS_LIMIT:
            self.progress.popitem(last=False)
        return done

    async def _send_one(self, number: str, out: Outgoing) -> str:
        payload = self._payload(number, out)
        headers = {"Content-Type": JSON, "Authorization": f"Bearer {self.cfg.token}"}
        label = mask(number)
        reply = await post(
            self.http, self.url, label=label, data=msgspec.json.encode(payload),
            headers=headers, timeout=self.timeout,
        )  # fmt: skip
        return check_graph_reply(label, reply, [*self.secrets, number, number.lstrip("+")])

    def _payload(self, number: str, out: Outgoing) -> dict[str, Any]:
        message = out.message or {}
        template = self.cfg.template
        if template is not None:
            parameters = message.get("parameters") or []
            if not isinstance(parameters, list):
                raise PermanentSinkError(f"{self.label}: parameters must be a list")
            return template_payload(number, template.name, template.language, parameters)
        text = str(message.get("text") or "").strip() or fallback_text(out)
        return text_payload(number, text)

    def _summary(self, failures: list[SinkError], done: int, total: int) -> SinkError:
        """One error for the delivery: transient if any is, else the last; says what was sent."""
        worst = next((f for f in failures if isinstance(f, TransientSinkError)), failures[-1])
        reasons = "; ".join(str(f) for f in failures)
        text = f"{self.label}: {reasons} (sent to {done} of {total} recipient(s))"
        if isinstance(worst, SinkGoneError):
            return SinkGoneError(text, status_code=worst.status_code, reason=worst.reason)
        if isinstance(worst, TransientSinkError):
            return TransientSinkError(
                text, status_code=worst.status_code, retry_after=worst.retry_after
            )
        return PermanentSinkError(text, status_code=worst.status_code)


def _build(name: str, cfg: WhatsAppConfig, ctx: Context) -> WhatsAppSender:
    return WhatsAppSender(name, cfg, http=ctx.http, timeout=ctx.timeout)


KIND = SinkKind(WhatsAppConfig, _build, format=FORMATS["whatsapp"], digests=True)
