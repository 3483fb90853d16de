"""A local fake of a Discord channel webhook (execute webhook).

It checks what the real service checks (from the provider's docs): method and path, where
the credential sits, required fields, size limits and format, and answers errors in the
provider's own shape. ``mode`` makes it fail on purpose: ``ok``, ``rate_limited`` (429 with
the provider's hint), ``down`` (5xx), ``revoked`` (401). The validator is a plain
function, so the message tests use it without a server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from fake_telegram import RETRY_AFTER

from sink_contract import DISCORD_ID, DISCORD_TOKEN


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
