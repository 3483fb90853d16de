"""Telegram: the Bot API's ``sendMessage`` to one chat, in HTML parse mode.

The bot token is part of the URL path (``/bot<token>/sendMessage``), so it is a secret in
every answer, error and log line. The API answers ``{"ok": true, "result": {...}}`` or
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``:

    429                       TransientSinkError, ``parameters.retry_after`` (else Retry-After)
    401                       SinkGoneError: the token was revoked or is wrong
    403                       SinkGoneError: blocked by the user, kicked, or not in the chat
    400 + migrate_to_chat_id  PermanentSinkError naming the new chat id
    other                     as ``http.check_status`` (5xx retried, 4xx permanent)
"""

from __future__ import annotations

import html
from typing import Any, NoReturn

import aiohttp
import msgspec

from service.config.schema import TelegramConfig
from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.render.chatformat import cut_html
from service.render.formats import FORMATS
from service.sinks.base import Context, Outgoing, SendResult, SinkKind
from service.sinks.chat import JSON, seconds
from service.sinks.http import (
    Reply,
    check_status,
    json_object,
    parse_retry_after,
    post,
    snippet,
    url_secrets,
)

TEXT_LIMIT = 4096  # characters after entity parsing; counted here on the HTML, so always safe
GONE = {
    401: "Telegram refused the bot token (401): it was revoked or is wrong",
    403: "the bot may not post to this chat (403): blocked, removed or not a member",
}


def build_payload(cfg: TelegramConfig, out: Outgoing) -> dict[str, Any]:
    """The ``sendMessage`` body: the HTML ``text`` cut to 4,096, link previews off by default."""
    text = str((out.message or {}).get("text") or "").strip()
    if not text:
        event, source = (html.escape(v, quote=False) for v in (out.event, out.source))
        text = f"Ponte: evento <code>{event}</code> recebido de {source}"
    payload: dict[str, Any] = {
        "chat_id": cfg.chat_id,
        "text": cut_html(text, TEXT_LIMIT),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": not cfg.link_previews},
    }
    if cfg.message_thread_id is not None:
        payload["message_thread_id"] = cfg.message_thread_id
    return payload


class TelegramSender:
    """Posts one message per delivery to ``cfg.chat_id``."""

    kind = "telegram"

    def __init__(
        self, name: str, cfg: TelegramConfig, *, http: aiohttp.ClientSession, timeout: float
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.http = http
        self.timeout = timeout
        self.label = f"telegram sink {name!r}"
        self.url = f"{cfg.api_url.rstrip('/')}/bot{cfg.token}/sendMessage"
        self.secrets = [cfg.token, cfg.token.partition(":")[2], *url_secrets(self.url)]

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver once; raise TransientSinkError / PermanentSinkError / SinkGoneError."""
        data = msgspec.json.encode(build_payload(self.cfg, out))
        reply = await post(
            self.http, self.url, label=self.label, data=data,
            headers={"Content-Type": JSON}, timeout=self.timeout,
        )  # fmt: skip
        answer = json_object(reply.text)
        if 200 <= reply.status < 300 and answer.get("ok") is True:
            result = answer.get("result")
            message_id = result.get("message_id", "") if isinstance(result, dict) else ""
            return SendResult(status_code=reply.status, response=f"ok message_id={message_id}")
        self._fail(reply, answer)

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the app."""

    def _fail(self, reply: Reply, answer: dict[str, Any]) -> NoReturn:
        code = answer.get("error_code") if isinstance(answer.get("error_code"), int) else None
        status = code or reply.status
        text = snippet(str(answer.get("description") or reply.text), self.secrets)
        detail = f"{self.label}: HTTP {status}" + (f" ({text})" if text else "")
        params: dict[str, Any] = answer.get("parameters") or {}
        params = params if isinstance(params, dict) else {}
        if status == 429:
            wait = seconds(params.get("retry_after")) or parse_retry_after(reply.retry_after)
            raise TransientSinkError(detail, status_code=status, retry_after=wait)
        if status in GONE:
            raise SinkGoneError(detail, status_code=status, reason=GONE[status])
        if (new_id := params.get("migrate_to_chat_id")) is not None:
            moved = f"{detail}: the group became a supergroup; set chat_id to {new_id}"
            raise PermanentSinkError(moved, status_code=status)
        check_status(self.label, Reply(status, text, reply.retry_after), self.secrets)
        raise PermanentSinkError(
            f"{self.label}: unexpected answer from the Bot API", status_code=status
        )


def _build(name: str, cfg: TelegramConfig, ctx: Context) -> TelegramSender:
    return TelegramSender(name, cfg, http=ctx.http, timeout=ctx.timeout)


KIND = SinkKind(TelegramConfig, _build, format=FORMATS["telegram"], digests=True)
