"""A local fake of the Telegram Bot API's ``sendMessage``.

It checks what the real service checks (from the provider's docs): method and path, where
the credential sits, required fields, size limits and format, and answers errors in the
provider's own shape. ``mode`` makes it fail on purpose: ``ok``, ``rate_limited`` (429 with
the provider's hint), ``down`` (5xx), ``revoked`` (401), ``blocked`` (403), ``migrated``
(a group that became a supergroup). The validator is a plain function, so the message tests
use it without a server.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sink_contract import TELEGRAM_TOKEN

TELEGRAM_CHAT = -1001234567890
RETRY_AFTER = 7


TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                 "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote"}  # fmt: skip
_TG_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[a-z-]+(?:=\"[^\"]*\")?)*)\s*(/?)>|"
                       r"&(?:lt|gt|amp|quot|#\d+|#x[0-9A-Fa-f]+);|[^<&]+|[<&]")  # fmt: skip


def telegram_text_error(text: str) -> str | None:
    """Telegram's refusal for an HTML ``text`` (parse error, empty, too long), or None."""
    stack: list[str] = []
    visible: list[str] = []
    for match in _TG_TOKEN.finditer(text):
        token = match[0]
        if match[2]:
            name = match[2].lower()
            if name not in TELEGRAM_TAGS:
                return f'Bad Request: can\'t parse entities: Unsupported start tag "{name}"'
            if match[1]:
                if not stack or stack.pop() != name:
                    return f'Bad Request: can\'t parse entities: Unexpected end tag "{name}"'
            else:
                stack.append(name)
        elif token in ("<", "&"):
            return (
                "Bad Request: can't parse entities: unescaped character at byte offset "
                f"{len(text[: match.start()].encode())}"
            )
        else:
            visible.append(html.unescape(token))
    if stack:
        unclosed = f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
        return f"Bad Request: can't parse entities: {unclosed}"
    shown = "".join(visible)
    if not shown.strip():
        return "Bad Request: message text is empty"
    if len(shown.encode("utf-16-le")) // 2 > 4096:
        return "Bad Request: message is too long"
    return None


@dataclass
class TelegramFake:
    """``POST /bot<token>/sendMessage`` as the Bot API answers it."""

    mode: str = "ok"
    chats: set[int | str] = field(default_factory=lambda: {TELEGRAM_CHAT, 42, "@vendas_canal"})
    threads: set[int] = field(default_factory=lambda: {7})
    sent: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp app."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        """Check path, token, method and fields; answer like the Bot API."""
        self.paths.append(request.path)
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.path)
        if match is None or match[2] != "sendMessage" or request.method != "POST":
            return self._error(404, "Not Found")
        if match[1] != TELEGRAM_TOKEN or self.mode == "revoked":
            return self._error(401, "Unauthorized")
        if self.mode == "down":
            return web.Response(status=502, text="<html>Bad Gateway</html>")
        if self.mode == "rate_limited":
            hint = {"retry_after": RETRY_AFTER}
            return self._error(429, f"Too Many Requests: retry after {RETRY_AFTER}", hint)
        if self.mode == "blocked":
            return self._error(403, "Forbidden: bot was kicked from the supergroup chat")
        if self.mode == "migrated":
            return self._error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                               {"migrate_to_chat_id": -1009876543210})  # fmt: skip
        if request.content_type != "application/json":
            return self._error(400, "Bad Request: message text is empty")
        return self._send(await request.json())

    def _send(self, body: dict[str, Any]) -> web.Response:
        if "chat_id" not in body:
            return self._error(400, "Bad Request: chat_id is empty")
        if body["chat_id"] not in self.chats:
            return self._error(400, "Bad Request: chat not found")
        if "message_thread_id" in body and body["message_thread_id"] not in self.threads:
            return self._error(400, "Bad Request: message thread not found")
        if body.get("parse_mode") != "HTML":
            return self._error(400, "Bad Request: this fake only speaks HTML parse mode")
        if (error := telegram_text_error(str(body.get("text", "")))) is not None:
            return self._error(400, error)
        self.sent.append(body)
        result = {"message_id": len(self.sent), "chat": {"id": body["chat_id"]}, "text": "…"}
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(
        code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)
