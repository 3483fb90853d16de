"""Slack: an incoming webhook (``webhook_url``) or a bot token posting to ``chat.postMessage``.

Incoming webhooks answer ``ok`` as text and explain failures in a short body
(``invalid_payload``, ``no_service``, ...). The Web API answers HTTP 200 with
``{"ok": false, "error": ...}``; only the errors in ``TRANSIENT_ERRORS`` are retried.
"""

from __future__ import annotations

from typing import Any, NoReturn

import aiohttp
import msgspec

from service.config.schema import SlackConfig
from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.render.filters import slack_escape
from service.render.formats import FORMATS
from service.sinks.base import Context, Outgoing, SendResult, SinkKind, excerpt
from service.sinks.http import (
    Reply,
    check_status,
    json_object,
    parse_retry_after,
    post,
    snippet,
    url_secrets,
)

TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "service_unavailable", "request_timeout", "fatal_error"}
)
GONE_BODIES = frozenset({"no_service"})
API_BODY_LIMIT = 1024 * 1024
JSON = "application/json; charset=utf-8"


def build_payload(out: Outgoing, label: str = "slack sink") -> dict[str, Any]:
    """``{text, blocks}`` from the rendered message, or a plain description of the event."""
    message = out.message or {}
    fallback = f"Ponte: evento {slack_escape(out.event)} recebido de {slack_escape(out.source)}"
    payload: dict[str, Any] = {"text": str(message.get("text") or fallback)}
    blocks = message.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = msgspec.json.decode(blocks)
        except msgspec.DecodeError:
            raise PermanentSinkError(f"{label}: blocks is not valid JSON") from None
    if blocks:
        payload["blocks"] = blocks
    return payload


class SlackSender:
    """Posts one message per delivery to a Slack channel."""

    kind = "slack"

    def __init__(
        self, name: str, cfg: SlackConfig, *, http: aiohttp.ClientSession, timeout: float
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.http = http
        self.timeout = timeout
        self.label = f"slack sink {name!r}"
        self.secrets = url_secrets(cfg.webhook_url) if cfg.webhook_url else [cfg.token or ""]

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver once; raise TransientSinkError / PermanentSinkError / SinkGoneError."""
        payload = build_payload(out, self.label)
        if self.cfg.webhook_url is not None:
            return await self._send_webhook(self.cfg.webhook_url, payload)
        return await self._send_api({"channel": self.cfg.channel, **payload})

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the app."""

    async def _post(self, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Reply:
        data = msgspec.json.encode(payload)
        return await post(
            self.http, url, label=self.label, data=data, headers=headers,
            timeout=self.timeout, limit=API_BODY_LIMIT,
        )  # fmt: skip

    async def _send_webhook(self, url: str, payload: dict[str, Any]) -> SendResult:
        reply = await self._post(url, payload, {"Content-Type": JSON})
        if 400 <= reply.status < 500 and reply.text.strip() in GONE_BODIES:
            gone = f"{self.label}: HTTP {reply.status} (no_service)"
            raise SinkGoneError(gone, status_code=reply.status)
        check_status(self.label, reply, self.secrets)
        answer = excerpt(snippet(reply.text, self.secrets))
        return SendResult(status_code=reply.status, response=answer)

    async def _send_api(self, payload: dict[str, Any]) -> SendResult:
        url = self.cfg.api_url.rstrip("/") + "/chat.postMessage"
        headers = {"Content-Type": JSON, "Authorization": f"Bearer {self.cfg.token}"}
        reply = await self._post(url, payload, headers)
        check_status(self.label, reply, self.secrets)
        answer = _decode_api(reply.text)
        if answer is None:
            odd = f"{self.label}: unexpected answer from the Slack API"
            raise PermanentSinkError(odd, status_code=reply.status)
        if answer.get("ok") is True:
            return SendResult(status_code=reply.status, response=f"ok ts={answer.get('ts', '')}")
        self._api_error(reply, snippet(str(answer.get("error", "unknown")), self.secrets))

    def _api_error(self, reply: Reply, error: str) -> NoReturn:
        message = f"{self.label}: Slack API error {error}"
        if error in TRANSIENT_ERRORS:
            retry_after = parse_retry_after(reply.retry_after)
            raise TransientSinkError(message, status_code=reply.status, retry_after=retry_after)
        raise PermanentSinkError(message, status_code=reply.status)


def _decode_api(text: str) -> dict[str, Any] | None:
    answer = json_object(text)
    return answer if "ok" in answer else None


def _build(name: str, cfg: SlackConfig, ctx: Context) -> SlackSender:
    return SlackSender(name, cfg, http=ctx.http, timeout=ctx.timeout)


KIND = SinkKind(SlackConfig, _build, format=FORMATS["slack"], digests=True)
