"""Webhook: POST the event to a customer's URL, signed the Standard Webhooks way.

The body is the original raw body, or the rendered ``body`` of the message (a mapping or
list is JSON-encoded, a string is sent as is). Headers, weakest first: defaults, the sink's
``headers``, the message's ``headers``, then Ponte's own (``x-ponte-*``, ``webhook-*``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any

import aiohttp
import msgspec
from multidict import CIMultiDict

import service
from service.config.schema import WebhookConfig, whsec_key
from service.errors import ConfigError, PermanentSinkError
from service.render.formats import FORMATS
from service.sinks.base import Context, Outgoing, SendResult, SinkKind, excerpt
from service.sinks.http import check_status, header_secrets, post, snippet, url_secrets

USER_AGENT = f"Ponte/{service.__version__}"
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks ``v1,`` signature: base64 HMAC-SHA256 of ``id.timestamp.body``."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def decode_secret(name: str, secret: str) -> bytes:
    """The HMAC key inside a ``whsec_<base64>`` secret; ConfigError (without it) if malformed."""
    key = whsec_key(secret)
    if key is None:
        raise ConfigError([f"sinks.{name}.signing_secret: not valid base64 after 'whsec_'"])
    return key


def render_body(out: Outgoing) -> bytes:
    """The rendered ``body`` when the message has one, else the original raw body."""
    body = (out.message or {}).get("body")
    if body is None:
        return out.body
    if isinstance(body, str):
        return body.encode()
    return msgspec.json.encode(body)


class WebhookSender:
    """POSTs each delivery to ``cfg.url``; redirects only when ``cfg.follow_redirects``."""

    kind = "webhook"

    def __init__(
        self, name: str, cfg: WebhookConfig, *, http: aiohttp.ClientSession, timeout: float
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.http = http
        self.timeout = timeout
        self.label = f"webhook sink {name!r}"
        secret = cfg.signing_secret
        self.key = decode_secret(name, secret) if secret else None
        key_text = secret.removeprefix("whsec_") if secret else ""
        self.secrets = [*url_secrets(cfg.url), secret or "", key_text, *header_secrets(cfg.headers)]
        self._static: CIMultiDict[str] | None = None

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver once; raise TransientSinkError / PermanentSinkError / SinkGoneError."""
        body = render_body(out)
        headers = self.headers(out, body)
        reply = await post(
            self.http, self.cfg.url, label=self.label, data=body, headers=headers,
            timeout=self.timeout, follow_redirects=self.cfg.follow_redirects,
        )  # fmt: skip
        check_status(self.label, reply, self.secrets)
        answer = excerpt(snippet(reply.text, self.secrets))
        return SendResult(status_code=reply.status, response=answer)

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the app."""

    def headers(self, out: Outgoing, body: bytes) -> CIMultiDict[str]:
        """Every header of the request, checked so none can smuggle a line break.

        The configured headers are checked once (``_static``); per request only what
        varies (rendered headers, event name) is.
        """
        if self._static is None:
            self._static = CIMultiDict({"Content-Type": "application/json", "User-Agent": USER_AGENT})
            self._static.update(self.cfg.headers)
            self._check(self._static.items())
        headers = self._static.copy()
        varying = {**self._rendered_headers(out.message), **self._ponte_headers(out, body)}
        self._check(varying.items())
        headers.update(varying)
        return headers

    def _check(self, items: Any) -> None:
        for key, value in items:
            if not _TOKEN.match(key) or _BAD_VALUE.search(value):
                raise PermanentSinkError(f"{self.label}: header {key!r} is not a valid header")

    def _rendered_headers(self, message: dict[str, Any] | None) -> dict[str, str]:
        rendered = (message or {}).get("headers") or {}
        if not isinstance(rendered, dict):
            raise PermanentSinkError(f"{self.label}: rendered headers must be a mapping")
        return {str(k): str(v) for k, v in rendered.items()}

    def _ponte_headers(self, out: Outgoing, body: bytes) -> dict[str, str]:
        headers = {
            "x-ponte-event": out.event,
            "x-ponte-delivery": str(out.delivery_id),
            "x-ponte-attempt": str(out.attempt),
        }
        if self.key is not None:
            msg_id, now = f"msg_{out.event_id}_{out.delivery_id}", int(time.time())
            headers["webhook-id"] = msg_id
            headers["webhook-timestamp"] = str(now)
            headers["webhook-signature"] = signature(self.key, msg_id, now, body)
        return headers


def _build(name: str, cfg: WebhookConfig, ctx: Context) -> WebhookSender:
    return WebhookSender(name, cfg, http=ctx.http, timeout=ctx.timeout)


KIND = SinkKind(WebhookConfig, _build, format=FORMATS["webhook"], digests=True)
