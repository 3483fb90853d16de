"""A local fake of the WhatsApp Business Cloud API (Graph API ``/{phone_number_id}/messages``).

It checks what Meta checks, from the Cloud API docs: the path carries a version and the
business phone number id; ``Authorization: Bearer <token>`` (else HTTP 401, code 190);
a JSON body with ``messaging_product: whatsapp``, ``to`` and ``type``; text bodies of at
most 4,096 characters (code 100); template name and language known (132001), parameter
count as approved (132000), parameters without line breaks or tabs (132018 in spirit: code
100); free text only to numbers that wrote in the last 24 hours (131047); numbers that are
on WhatsApp (131026). Errors come in the Graph API's shape. ``script`` holds canned
answers ``(status, code)`` given before the checks (rate limits, outages); ``busy``
fails one number once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

VERSION = "v21.0"
PHONE_ID = "106540352242922"
TOKEN = "EAAGtest-whatsapp-access-token-0123456789"
TEMPLATES = {("compra_aprovada", "pt_BR"): 2, ("boas_vindas", "pt_BR"): 0}
TITLES = {
    4: "Application request limit reached", 100: "Invalid parameter", 130429: "Rate limit hit",
    131026: "Message Undeliverable", 131047: "Re-engagement message", 131056: "Pair rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation", 131000: "Something went wrong",
    190: "Invalid OAuth access token - Cannot parse access token",
}  # fmt: skip


@dataclass
class FakeGraph:
    """The fake's state: who is on WhatsApp, whose window is open, what was sent."""

    on_whatsapp: set[str] = field(default_factory=lambda: {"5511987654321", "5521912345678"})
    window_open: set[str] = field(default_factory=lambda: {"5511987654321", "5521912345678"})
    script: list[tuple[int, int]] = field(default_factory=list)
    busy: dict[str, int] = field(default_factory=dict)  # number -> an error code, given once
    sent: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        """The aiohttp app."""
        app = web.Application()
        app.router.add_post("/{version}/{phone_id}/messages", self.messages)
        return app

    async def messages(self, request: web.Request) -> web.Response:
        """POST /{version}/{phone_id}/messages."""
        raw = await request.read()
        self.requests.append({"headers": dict(request.headers), "body": raw})
        if request.match_info["version"] != VERSION or request.match_info["phone_id"] != PHONE_ID:
            return error(400, 100, "Unsupported post request. Object does not exist")
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return error(401, 190, TITLES[190], kind="OAuthException")
        if self.script:
            status, code = self.script.pop(0)
            return error(status, code, TITLES.get(code, "Error"), details="scripted")
        return self._check(await _json(request))

    def _check(self, body: Any) -> web.Response:
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return error(400, 100, "The parameter messaging_product is required.")
        to = str(body.get("to") or "").lstrip("+")
        if not to:
            return error(400, 100, "The parameter to is required.")
        if to in self.busy:
            return error(
                400, self.busy.pop(to), "Rate limit hit", details="scripted for this number"
            )
        problem = (
            self._check_text(body, to) if body.get("type") == "text" else self._check_template(body)
        )
        if problem is not None:
            return problem
        if to not in self.on_whatsapp:
            return error(400, 131026, TITLES[131026], details="Message Undeliverable.")
        self.sent.append(body)
        return web.json_response({
            "messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": to}],
            "messages": [{"id": f"wamid.HBgM{next(self.ids):06d}"}],
        })  # fmt: skip

    def _check_text(self, body: dict[str, Any], to: str) -> web.Response | None:
        text = body.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
            return error(400, 100, "The parameter text['body'] is required.")
        if len(text["body"]) > 4096:
            return error(400, 100, "Param text['body'] must be at most 4096 characters long.")
        if to not in self.window_open:
            return error(400, 131047, TITLES[131047],
                         details="Message failed to send because more than 24 hours have passed "
                                 "since the customer last replied to this number.")  # fmt: skip
        return None

    def _check_template(self, body: dict[str, Any]) -> web.Response | None:
        template = body.get("template") if body.get("type") == "template" else None
        if not isinstance(template, dict) or not isinstance(template.get("language"), dict):
            return error(400, 100, "The parameter type must be text or template with a language.")
        key = (template.get("name"), template["language"].get("code"))
        if key not in TEMPLATES:
            return error(
                404,
                132001,
                TITLES[132001],
                details=f"template name ({key[0]}) does not exist in {key[1]}",
            )
        params = [
            p
            for c in template.get("components", [])
            if c.get("type") == "body"
            for p in c["parameters"]
        ]
        if len(params) != TEMPLATES[key]:
            return error(400, 132000, TITLES[132000], details=f"body: number of localizable_params ({len(params)}) "
                         f"does not match the expected number of params ({TEMPLATES[key]})")  # fmt: skip
        for p in params:
            text = p.get("text")
            if (
                p.get("type") != "text"
                or not text
                or "\n" in text
                or "\t" in text
                or "     " in text
            ):
                return error(
                    400,
                    100,
                    "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
                )
        return None


def error(
    status: int, code: int, message: str, *, details: str = "", kind: str = "OAuthException"
) -> web.Response:
    """An answer in the Graph API's error shape."""
    body: dict[str, Any] = {"message": f"(#{code}) {message}", "type": kind, "code": code,
                            "fbtrace_id": "AbCdEfGhIjK"}  # fmt: skip
    if details:
        body["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return web.json_response({"error": body}, status=status)


async def _json(request: web.Request) -> Any:
    if request.content_type != "application/json":
        return None
    try:
        return await request.json()
    except ValueError:
        return None
