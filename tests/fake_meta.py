"""A local fake of Meta's Conversions API (Graph API ``POST /{version}/{pixel_id}/events``).

It checks what Meta documents (Conversions API "Using the API", "Main Body", "Server
Event" and "Customer Information" parameters, and Graph API "Handling Errors"; read
2026-12-06): the version and pixel id in the path; the ``access_token`` query parameter
(missing or wrong: code 190, OAuthException); a JSON body whose ``data`` is a non-empty
list of events; each event with ``event_name``, integer ``event_time`` no more than 7 days
old, ``action_source`` and a ``user_data`` mapping; the contact fields Meta wants hashed
(em, ph, fn, ln, ge, db, ct, st, zp, country) as 64 lowercase hex characters; at least
one field to match on; ``value`` and ``currency`` on a Purchase. A bad parameter is code
100 with Meta's error shape (message, type, code, fbtrace_id, error_user_msg).
``script`` holds canned answers ``(status, code)`` given before the checks (code None: a
bare HTTP error without a Graph body).
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

VERSION = "v21.0"
PIXEL_ID = "123456789012345"
TOKEN = "EAAGmeta-capi-access-token-0123456789abcdef"
HASHED = ("em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country")
MATCH_KEYS = ("em", "ph", "external_id", "fbc", "fbp", "lead_id", "fb_login_id")
SOURCES = frozenset({"email", "website", "app", "phone_call", "chat", "physical_store",
                     "system_generated", "business_messaging", "other"})  # fmt: skip
TITLES = {1: "An unknown error occurred", 2: "Service temporarily unavailable",
          4: "Application request limit reached", 17: "User request limit reached",
          32: "Page request limit reached", 613: "Calls to this api have exceeded the rate limit",
          100: "Invalid parameter", 190: "Invalid OAuth access token - Cannot parse access token"}  # fmt: skip
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class FakeMeta:
    """The fake's state: the valid token, canned answers, and what was received."""

    token: str = TOKEN
    script: list[tuple[int, int | None]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)  # every accepted event
    bodies: list[dict[str, Any]] = field(default_factory=list)  # every accepted request body
    requests: list[dict[str, Any]] = field(default_factory=list)  # everything that arrived
    traces: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        """The aiohttp app."""
        app = web.Application()
        app.router.add_post("/{version}/{pixel_id}/events", self.events)
        return app

    async def events(self, request: web.Request) -> web.Response:
        """POST /{version}/{pixel_id}/events?access_token=…"""
        raw = await request.read()
        self.requests.append({"query": dict(request.query), "headers": dict(request.headers), "body": raw})
        if request.match_info["version"] != VERSION:
            return error(400, 100, f"Unknown path components: /{request.match_info['version']}")
        if request.query.get("access_token") != self.token:
            return error(400, 190, TITLES[190])
        if request.match_info["pixel_id"] != PIXEL_ID:
            return error(400, 100, "Unsupported post request. Object with ID "
                         f"'{request.match_info['pixel_id']}' does not exist", kind="GraphMethodException")  # fmt: skip
        if self.script:
            status, code = self.script.pop(0)
            if code is None:
                return web.Response(status=status, text="Service Unavailable")
            return error(status, code, TITLES.get(code, "Error"), transient=code != 100)
        try:
            body = await request.json() if request.content_type == "application/json" else None
        except ValueError:
            body = None
        return self._accept(body)

    def _accept(self, body: Any) -> web.Response:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list) or not body["data"]:
            return error(400, 100, TITLES[100], user_msg="data is required: a non-empty array.")
        for i, event in enumerate(body["data"]):
            problem = check_event(event, time.time())
            if problem is not None:
                return error(400, 100, TITLES[100], user_msg=f"data[{i}]: {problem}")
        self.bodies.append(body)
        self.received.extend(body["data"])
        return web.json_response({"events_received": len(body["data"]), "messages": [],
                                  "fbtrace_id": f"AfakeTrace{next(self.traces):04d}"})  # fmt: skip


def check_event(event: Any, now: float) -> str | None:
    """What Meta would refuse in one server event, or None."""
    if not isinstance(event, dict):
        return "each event must be an object"
    for key in ("event_name", "event_time", "action_source", "user_data"):
        if key not in event:
            return f"the parameter {key} is required"
    if not isinstance(event["event_name"], str) or not event["event_name"]:
        return "event_name must be a non-empty string"
    if not isinstance(event["event_time"], int) or isinstance(event["event_time"], bool):
        return "event_time must be an integer (unix seconds)"
    if event["event_time"] < now - 7 * 86400:
        return "event_time is more than 7 days in the past"
    if event["action_source"] not in SOURCES:
        return f"action_source {event['action_source']!r} is not a valid value"
    return _check_user(event["user_data"]) or _check_custom(event)


def _check_user(user: Any) -> str | None:
    if not isinstance(user, dict):
        return "user_data must be an object"
    for key in HASHED:
        for value in user.get(key, []) if isinstance(user.get(key), list) else [user.get(key)]:
            if value is not None and not (isinstance(value, str) and _HEX64.match(value)):
                return f"user_data.{key} must be a SHA-256 hash (64 lowercase hex characters)"
    if not any(k in user for k in MATCH_KEYS) and not {"client_ip_address", "client_user_agent"} <= set(user):
        return "user_data has no customer information parameter to match on"
    return None


def _check_custom(event: dict[str, Any]) -> str | None:
    custom = event.get("custom_data", {})
    if event["event_name"] != "Purchase":
        return None
    if not isinstance(custom, dict) or not isinstance(custom.get("value"), (int, float)):
        return "a Purchase needs custom_data.value (a number)"
    if not isinstance(custom.get("currency"), str) or len(custom["currency"]) != 3:
        return "a Purchase needs custom_data.currency (ISO 4217)"
    return None


def error(status: int, code: int, message: str, *, kind: str = "OAuthException", user_msg: str = "",
          transient: bool = False) -> web.Response:  # fmt: skip
    """An answer in the Graph API's error shape."""
    body: dict[str, Any] = {"message": message, "type": kind, "code": code,
                            "fbtrace_id": "AfakeTraceErr"}  # fmt: skip
    if user_msg:
        body["error_user_msg"] = user_msg
    if transient:
        body["is_transient"] = True
    return web.json_response({"error": body}, status=status)
