"""A local fake of a Microsoft Teams Workflows trigger ("when a Teams webhook request is received").

It checks what the real service checks (from the provider's docs): method and path, where
the credential sits, required fields, size limits and format, and answers errors in the
provider's own shape. ``mode`` makes it fail on purpose: ``ok``, ``rate_limited`` (429 with
the provider's hint), ``down`` (5xx), ``revoked`` (401). The validator is a plain
function, so the message tests use it without a server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from fake_telegram import RETRY_AFTER

from sink_contract import TEAMS_SIG

TEAMS_FLOW = "0f1e2d3c"


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
