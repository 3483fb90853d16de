"""Discord: an incoming webhook (``POST /api/webhooks/<id>/<token>?wait=true``).

The payload is ``content`` plus ``embeds``, fitted to Discord's limits before sending
(content 2,000; per embed: title 256, description 4,096, 25 fields of name 256 / value
1,024, footer 2,048, author 256; 6,000 characters across all embeds; 10 embeds), and
``allowed_mentions: {"parse": []}`` always, so no payload can ping ``@everyone``.
Answers: 429 carries ``retry_after`` (JSON, seconds) and Retry-After; 401 (invalid token)
and 404 (unknown webhook) mean the webhook is gone, 403 that it may not post: the sink is
disabled; other codes as ``http.check_status``.
"""

from __future__ import annotations

from typing import Any, NoReturn

import aiohttp
import msgspec
from yarl import URL

from service.config.schema import DiscordConfig
from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.render.chatformat import clip_plain, escape_markdown
from service.render.formats import FORMATS
from service.sinks.base import Context, Outgoing, SendResult, SinkKind
from service.sinks.chat import JSON, seconds, structured
from service.sinks.http import (
    Reply,
    check_status,
    json_object,
    parse_retry_after,
    post,
    snippet,
    url_secrets,
)

CONTENT_LIMIT = 2000
EMBEDS_LIMIT = 6000
MAX_EMBEDS = 10
MAX_FIELDS = 25
LIMITS = {"title": 256, "description": 4096}
FIELD_NAME, FIELD_VALUE, FOOTER, AUTHOR = 256, 1024, 2048, 256
GONE = {
    401: "Discord refused the webhook token (401): the webhook was reset or deleted",
    403: "Discord refused the webhook (403): it may not post to its channel",
    404: "Discord does not know the webhook (404): it was deleted",
}


def build_payload(out: Outgoing, label: str = "discord sink") -> dict[str, Any]:
    """``{content, embeds, allowed_mentions}`` from the rendered message, within every limit."""
    message = out.message or {}
    content = clip_plain(str(message.get("content") or ""), CONTENT_LIMIT)
    embeds = structured(message.get("embeds") or [], label, "embeds")
    embeds = [embeds] if isinstance(embeds, dict) else embeds
    if not isinstance(embeds, list) or not all(isinstance(e, dict) for e in embeds):
        raise PermanentSinkError(f"{label}: embeds must be a list of embed objects")
    for i, embed in enumerate(embeds):
        fields = embed.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
            raise PermanentSinkError(
                f"{label}: embeds[{i}].fields must be a list of {{name, value}}"
            )
    fitted = fit_embeds(embeds[:MAX_EMBEDS])
    if not content.strip() and not fitted:
        content = (
            f"Ponte: evento {escape_markdown(out.event)} recebido de {escape_markdown(out.source)}"
        )
    return {"content": content, "embeds": fitted, "allowed_mentions": {"parse": []}}


def fit_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each embed within its field limits, then trimmed from the end until 6,000 fit."""
    fitted = [_fit(embed) for embed in embeds]
    while (excess := embed_chars(fitted) - EMBEDS_LIMIT) > 0 and _shrink(fitted, excess):
        pass
    return fitted


def _shrink(fitted: list[dict[str, Any]], excess: int) -> bool:
    """One step: drop the last field, else the last embed, else cut the text; False if stuck."""
    with_fields = [e for e in fitted if e.get("fields")]
    if with_fields:
        with_fields[-1]["fields"].pop()
        return True
    if len(fitted) > 1:
        fitted.pop()
        return True
    embed = fitted[0]
    for part, key in ((embed, "description"), (embed.get("footer", {}), "text")):
        if len(part.get(key, "")) > 1:
            part[key] = clip_plain(part[key], max(len(part[key]) - excess, 1))
            return True
    return False


def embed_chars(embeds: list[dict[str, Any]]) -> int:
    """Characters Discord counts towards 6,000: titles, descriptions, fields, footers, authors."""
    total = 0
    for embed in embeds:
        total += len(str(embed.get("title", ""))) + len(str(embed.get("description", "")))
        total += sum(
            len(str(f.get("name", ""))) + len(str(f.get("value", ""))) for f in _fields(embed)
        )
        total += len(_inner(embed, "footer", "text")) + len(_inner(embed, "author", "name"))
    return total


def _fields(embed: dict[str, Any]) -> list[dict[str, Any]]:
    fields = embed.get("fields")
    return [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []


def _inner(embed: dict[str, Any], key: str, sub: str) -> str:
    part = embed.get(key)
    return str(part.get(sub, "")) if isinstance(part, dict) else ""


def _fit(embed: dict[str, Any]) -> dict[str, Any]:
    fitted = {k: v for k, v in embed.items() if v not in (None, "", [], {})}
    for key, limit in LIMITS.items():
        if key in fitted:
            fitted[key] = clip_plain(str(fitted[key]), limit)
    if "fields" in fitted:
        fitted["fields"] = [_field(f) for f in _fields(fitted)][:MAX_FIELDS]
    for key, limit in (("footer", FOOTER), ("author", AUTHOR)):
        part = fitted.get(key)
        if isinstance(part, dict):
            text_key = "text" if key == "footer" else "name"
            fitted[key] = {**part, text_key: clip_plain(str(part.get(text_key) or "—"), limit)}
    return fitted


def _field(field: dict[str, Any]) -> dict[str, Any]:
    name = clip_plain(str(field.get("name") or "—"), FIELD_NAME)  # Discord refuses empty ones
    value = clip_plain(str(field.get("value") or "—"), FIELD_VALUE)
    return {"name": name, "value": value, "inline": bool(field.get("inline", True))}


class DiscordSender:
    """Posts one message per delivery to a Discord channel's webhook."""

    kind = "discord"

    def __init__(
        self, name: str, cfg: DiscordConfig, *, http: aiohttp.ClientSession, timeout: float
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.http = http
        self.timeout = timeout
        self.label = f"discord sink {name!r}"
        self.url = str(URL(cfg.webhook_url).update_query(wait="true"))
        self.secrets = [*url_secrets(cfg.webhook_url), *url_secrets(self.url)]

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver once; raise TransientSinkError / PermanentSinkError / SinkGoneError."""
        data = msgspec.json.encode(build_payload(out, self.label))
        reply = await post(
            self.http, self.url, label=self.label, data=data,
            headers={"Content-Type": JSON}, timeout=self.timeout,
        )  # fmt: skip
        if 200 <= reply.status < 300:
            message_id = json_object(reply.text).get("id", "")
            return SendResult(status_code=reply.status, response=f"ok message_id={message_id}")
        self._fail(reply, json_object(reply.text))

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the app."""

    def _fail(self, reply: Reply, answer: dict[str, Any]) -> NoReturn:
        text = snippet(_describe(answer) or reply.text, self.secrets)
        detail = f"{self.label}: HTTP {reply.status}" + (f" ({text})" if text else "")
        if reply.status == 429:
            wait = seconds(answer.get("retry_after")) or parse_retry_after(reply.retry_after)
            raise TransientSinkError(detail, status_code=429, retry_after=wait)
        if reply.status in GONE:
            raise SinkGoneError(detail, status_code=reply.status, reason=GONE[reply.status])
        check_status(self.label, Reply(reply.status, text, reply.retry_after), self.secrets)
        raise PermanentSinkError(detail, status_code=reply.status)


def _describe(answer: dict[str, Any]) -> str:
    """``message`` (``code``) and the first invalid field of a Discord error body."""
    if "message" not in answer:
        return ""
    text = f"{answer['message']}" + (f" (code {answer['code']})" if "code" in answer else "")
    path = _first_error(answer.get("errors"), [])
    return f"{text}: {path}" if path else text


def _first_error(node: Any, path: list[str]) -> str:
    if not isinstance(node, dict):
        return ""
    if isinstance(node.get("_errors"), list) and node["_errors"]:
        first = node["_errors"][0]
        return f"{'.'.join(path)}: {first.get('message', '') if isinstance(first, dict) else first}"
    for key, child in node.items():
        if found := _first_error(child, [*path, str(key)]):
            return found
    return ""


def _build(name: str, cfg: DiscordConfig, ctx: Context) -> DiscordSender:
    return DiscordSender(name, cfg, http=ctx.http, timeout=ctx.timeout)


KIND = SinkKind(DiscordConfig, _build, format=FORMATS["discord"], digests=True)
