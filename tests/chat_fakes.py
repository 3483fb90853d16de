"""Local fakes of the Telegram Bot API, a Discord webhook and a Teams Workflows webhook.

Each checks what the real service checks (from the providers' docs): method and path,
where the credential sits, required fields, size limits, the text format, and answers
errors in the provider's own shape. ``mode`` makes it fail on purpose: ``ok``,
``rate_limited`` (429 with the provider's hint), ``down`` (500), ``revoked`` (401).
The validators are plain functions, so the message tests use them without a server.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sink_contract import DISCORD_ID, DISCORD_TOKEN, TEAMS_SIG, TELEGRAM_TOKEN

TELEGRAM_CHAT = -1001234567890
TEAMS_FLOW = "0f1e2d3c"
RETRY_AFTER = 7

# --- Telegram ----------------------------------------------------------------------------

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


# --- Discord -----------------------------------------------------------------------------


def discord_errors(body: Any) -> dict[str, Any]:
    """Discord's ``errors`` tree for an execute-webhook body ({} when valid)."""
    errors: dict[str, Any] = {}
    if not isinstance(body, dict):
        return {"_errors": [_too("BASE_TYPE_DICT", "Must be an object.")]}
    if len(str(body.get("content") or "")) > 2000:
        errors["content"] = {
            "_errors": [_too("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")]
        }
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors["embeds"] = {
            "_errors": [_too("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")]
        }
    for i, embed in enumerate(embeds[:10]):
        if found := _embed_errors(embed):
            errors.setdefault("embeds", {})[str(i)] = found
    if not errors and _embed_total(embeds) > 6000:
        errors["embeds"] = {
            "_errors": [_too("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")]
        }
    return errors


def _too(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _embed_errors(embed: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, limit in (("title", 256), ("description", 4096)):
        if len(str(embed.get(key, ""))) > limit:
            found[key] = {
                "_errors": [_too("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")]
            }
    if "color" in embed and not (
        isinstance(embed["color"], int) and 0 <= embed["color"] <= 0xFFFFFF
    ):
        found["color"] = {"_errors": [_too("NUMBER_TYPE_MAX", "int value should be <= 16777215.")]}
    if "url" in embed and not str(embed["url"]).startswith(("http://", "https://")):
        found["url"] = {"_errors": [_too("URL_TYPE_INVALID_URL", "Not a well formed URL.")]}
    fields = embed.get("fields", [])
    if len(fields) > 25:
        found["fields"] = {
            "_errors": [_too("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")]
        }
    for j, item in enumerate(fields):
        for key, limit in (("name", 256), ("value", 1024)):
            text = str(item.get(key) or "")
            if not text or len(text) > limit:
                code = "BASE_TYPE_REQUIRED" if not text else "BASE_TYPE_MAX_LENGTH"
                found.setdefault("fields", {}).setdefault(str(j), {})[key] = {
                    "_errors": [_too(code, f"limit {limit}")]
                }
    if len(str(embed.get("footer", {}).get("text", ""))) > 2048:
        found["footer"] = {
            "_errors": [_too("BASE_TYPE_MAX_LENGTH", "Must be 2048 or fewer in length.")]
        }
    return found


def _embed_total(embeds: list[dict[str, Any]]) -> int:
    total = 0
    for e in embeds:
        total += len(e.get("title", "")) + len(e.get("description", ""))
        total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in e.get("fields", []))
        total += len(e.get("footer", {}).get("text", "")) + len(e.get("author", {}).get("name", ""))
    return total


@dataclass
class DiscordFake:
    """``POST /api/webhooks/<id>/<token>`` as Discord answers it."""

    mode: str = "ok"
    sent: list[dict[str, Any]] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp app."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        """Check path, token and body; answer like Discord."""
        self.queries.append(request.query_string)
        match = re.fullmatch(r"/api/webhooks/(\d+)/([^/]+)", request.path)
        if request.method != "POST" or match is None:
            return web.json_response({"message": "405: Method Not Allowed", "code": 0}, status=405)
        if match[1] != DISCORD_ID:
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        if match[2] != DISCORD_TOKEN or self.mode == "revoked":
            return web.json_response(
                {"message": "Invalid Webhook Token", "code": 50027}, status=401
            )
        if self.mode == "rate_limited":
            body = {
                "message": "You are being rate limited.",
                "retry_after": RETRY_AFTER + 0.5,
                "global": False,
            }
            return web.json_response(
                body, status=429, headers={"Retry-After": str(RETRY_AFTER + 1)}
            )
        if self.mode == "down":
            return web.Response(status=500, text="500: Internal Server Error")
        return self._execute(request, await request.json())

    def _execute(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        if errors := discord_errors(body):
            return web.json_response(
                {"code": 50035, "errors": errors, "message": "Invalid Form Body"}, status=400
            )
        if not str(body.get("content") or "").strip() and not body.get("embeds"):
            return web.json_response(
                {"message": "Cannot send an empty message", "code": 50006}, status=400
            )
        self.sent.append(body)
        if request.query.get("wait") != "true":
            return web.Response(status=204)
        return web.json_response(
            {"id": str(1000 + len(self.sent)), "content": body.get("content", "")}
        )


# --- Teams -------------------------------------------------------------------------------

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
TEAMS_LIMIT = 28 * 1024


def teams_errors(body: Any) -> list[str]:
    """Why the Workflows "post card" step would refuse ``body`` (empty when valid)."""
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("attachments"), list)
        or not body["attachments"]
    ):
        return ["attachments: the flow expects a message with an attachments list"]
    problems: list[str] = []
    for i, attachment in enumerate(body["attachments"]):
        if attachment.get("contentType") != CARD_TYPE:
            problems.append(f"attachments[{i}].contentType: not an Adaptive Card")
        card = attachment.get("content") or {}
        if card.get("type") != "AdaptiveCard" or not card.get("version"):
            problems.append(
                f"attachments[{i}].content: type AdaptiveCard and a version are required"
            )
        problems += _elements(card.get("body", []), f"attachments[{i}].content.body")
        for j, action in enumerate(card.get("actions", [])):
            if action.get("type") != "Action.OpenUrl" or not str(action.get("url", "")).startswith(
                "http"
            ):
                problems.append(f"attachments[{i}].content.actions[{j}]: needs an http(s) url")
    return problems


def _elements(elements: list[Any], at: str) -> list[str]:
    problems = []
    for i, element in enumerate(elements):
        kind = element.get("type")
        if kind == "TextBlock" and not isinstance(element.get("text"), str):
            problems.append(f"{at}[{i}].text: required")
        elif kind == "FactSet":
            bad = [
                f
                for f in element.get("facts", [])
                if not isinstance(f.get("title"), str) or not isinstance(f.get("value"), str)
            ]
            problems += [f"{at}[{i}].facts: title and value must be text"] if bad else []
        elif kind not in (
            "TextBlock",
            "FactSet",
            "ColumnSet",
            "Container",
            "Image",
            "RichTextBlock",
        ):
            problems.append(f"{at}[{i}].type: unknown element {kind!r}")
    return problems


@dataclass
class TeamsFake:
    """A Workflows trigger URL: ``POST /workflows/<id>/triggers/manual/paths/invoke?…&sig=…``."""

    mode: str = "ok"
    sent: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp app."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        """Check the flow, the signature, size and card; answer 202 like the trigger."""
        match = re.fullmatch(r"/workflows/(\w+)/triggers/manual/paths/invoke", request.path)
        if request.method != "POST" or match is None or match[1] != TEAMS_FLOW:
            return _teams_error(404, "WorkflowNotFound", "The workflow could not be found.")
        if request.query.get("sig") != TEAMS_SIG or self.mode == "revoked":
            echo = f"The provided signature '{request.query.get('sig')}' is not valid."
            return _teams_error(401, "DirectApiInvalidAuthorizationSignature", echo)
        if self.mode == "rate_limited":
            hint = {"Retry-After": str(RETRY_AFTER)}
            return _teams_error(429, "WorkflowRequestsThrottled", "Slow down.", hint)
        if self.mode == "down":
            return _teams_error(502, "BadGateway", "The service is unavailable.")
        raw = await request.read()
        if len(raw) > TEAMS_LIMIT:
            return _teams_error(413, "RequestEntityTooLarge", "The message is too large.")
        body = json.loads(raw)
        if problems := teams_errors(body):
            return _teams_error(400, "InvalidRequestContent", "; ".join(problems))
        self.sent.append(body)
        return web.Response(status=202)


def _teams_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)
