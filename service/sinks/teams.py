"""Microsoft Teams: a Workflows webhook ("post to a channel when a webhook request is received").

The flow expects a message with one Adaptive Card attachment::

    {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
     "contentUrl": null, "content": {"type": "AdaptiveCard", "version": "1.4", "body": [...]}}]}

The URL's ``sig=`` query value is the credential, so the URL is a secret. Teams refuses
messages over about 28 KB: a larger card keeps its first body elements and says it was cut.
Answers (Power Automate's ``{"error": {"code", "message"}}``): 202 accepted; 401/403 (a
wrong or regenerated ``sig``) and 404 (the flow was deleted) disable the sink; 429 honours
Retry-After; other codes as ``http.check_status``. The flow runs after answering 202, so a
failure inside the flow (e.g. the bot not in the channel) shows in its run history only.
"""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

import aiohttp
import msgspec

from service.config.schema import TeamsConfig
from service.errors import PermanentSinkError, SinkGoneError
from service.render.chatformat import clip_plain, escape_teams
from service.render.formats import FORMATS
from service.sinks.base import Context, Outgoing, SendResult, SinkKind
from service.sinks.chat import JSON, structured
from service.sinks.http import Reply, check_status, json_object, post, snippet, url_secrets

SIZE_LIMIT = 28_000  # bytes of the whole request body
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CUT_NOTE = {"type": "TextBlock", "text": "… (mensagem cortada: limite de tamanho do Teams)",
            "isSubtle": True, "wrap": True}  # fmt: skip
GONE = {
    401: "the workflow refused the URL's signature (401): the URL was regenerated",
    403: "the workflow refused the URL's signature (403): the URL was regenerated",
    404: "the workflow does not exist (404): it was deleted or turned off",
}


def build_payload(out: Outgoing, label: str = "teams sink") -> dict[str, Any]:
    """The Workflows message around the rendered ``card``, cut to fit Teams' size limit."""
    card = structured((out.message or {}).get("card"), label, "card")
    if card is None:
        text = f"Ponte: evento {escape_teams(out.event)} recebido de {escape_teams(out.source)}"
        card = {"body": [{"type": "TextBlock", "text": text, "wrap": True}]}
    if not isinstance(card, dict) or not isinstance(card.get("body", []), list):
        raise PermanentSinkError(f"{label}: card must be an Adaptive Card object with a body list")
    card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.4", **card}
    return fit(_message(card))


def _message(card: dict[str, Any]) -> dict[str, Any]:
    attachment = {"contentType": CARD_TYPE, "contentUrl": None, "content": card}
    return {"type": "message", "attachments": [attachment]}


def fit(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` if it is under ``SIZE_LIMIT`` bytes, else its card's first elements + a note."""
    if len(msgspec.json.encode(message)) <= SIZE_LIMIT:
        return message
    card = dict(message["attachments"][0]["content"])
    body: list[Any] = list(card.get("body", []))
    while len(body) > 1:
        body.pop()
        cut = _message({**card, "body": [*body, CUT_NOTE]})
        if _fits(cut):
            return cut
    return _cut_first(card, body[0] if body else None)


def _fits(message: dict[str, Any]) -> bool:
    return len(msgspec.json.encode(message)) <= SIZE_LIMIT


def _cut_first(card: dict[str, Any], first: Any) -> dict[str, Any]:
    """The card with only its first element, its ``text`` shortened until the message fits."""
    text = first.get("text") if isinstance(first, dict) else None
    if isinstance(text, str):
        length = SIZE_LIMIT
        while length > 0:
            cut = _message(
                {**card, "body": [{**first, "text": clip_plain(text, length)}, CUT_NOTE]}
            )
            if _fits(cut):
                return cut
            length = length * 3 // 4
    return _message({**card, "body": [CUT_NOTE], "actions": []})


class TeamsSender:
    """Posts one Adaptive Card per delivery to a Teams Workflows webhook."""

    kind = "teams"

    def __init__(
        self, name: str, cfg: TeamsConfig, *, http: aiohttp.ClientSession, timeout: float
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.http = http
        self.timeout = timeout
        self.label = f"teams sink {name!r}"
        sig = parse_qs(urlsplit(cfg.webhook_url).query).get("sig", [])
        self.secrets = [*url_secrets(cfg.webhook_url), *sig]

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver once; raise TransientSinkError / PermanentSinkError / SinkGoneError."""
        data = msgspec.json.encode(build_payload(out, self.label))
        reply = await post(
            self.http, self.cfg.webhook_url, label=self.label, data=data,
            headers={"Content-Type": JSON}, timeout=self.timeout,
        )  # fmt: skip
        if 200 <= reply.status < 300:
            return SendResult(status_code=reply.status, response="accepted")
        self._fail(reply)

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the app."""

    def _fail(self, reply: Reply) -> NoReturn:
        error = json_object(reply.text).get("error")
        described = (
            f"{error.get('code', '')}: {error.get('message', '')}"
            if isinstance(error, dict)
            else ""
        )
        text = snippet(described or reply.text, self.secrets)
        detail = f"{self.label}: HTTP {reply.status}" + (f" ({text})" if text else "")
        if reply.status in GONE:
            raise SinkGoneError(detail, status_code=reply.status, reason=GONE[reply.status])
        check_status(self.label, Reply(reply.status, text, reply.retry_after), self.secrets)
        raise PermanentSinkError(detail, status_code=reply.status)


def _build(name: str, cfg: TeamsConfig, ctx: Context) -> TeamsSender:
    return TeamsSender(name, cfg, http=ctx.http, timeout=ctx.timeout)


KIND = SinkKind(TeamsConfig, _build, format=FORMATS["teams"], digests=True)
