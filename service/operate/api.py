"""The admin API: bearer-token protected JSON over the operator verbs.

Without ``server.admin_token`` every ``/api/`` path answers 404, so the API is never
open by accident. Lists answer ``{"items": [...], "next": <cursor or null>}``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog
from aiohttp import web

from service.delivery.worker import WORKER
from service.errors import BadRequest, NotFound, OperationError
from service.keys import HOLDER, STORE, WAKE
from service.logbridge import CLIENT_FAULTS, client_fault
from service.operate import operations as ops
from service.operate import throttle
from service.operate.openapi import SPEC
from service.operate.reload import reload_from_file
from service.timeparse import iso

log = structlog.get_logger("ponte.api")

Handler = Callable[[web.Request], Awaitable[web.Response]]
StreamHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GUESSES = 10  # wrong tokens per client address …
GUESS_WINDOW = 60.0  # … in this many seconds; past it a wrong token gets 429 (a right one passes)
THROTTLE = web.AppKey("api_throttle", throttle.Throttle)


def add_routes(app: web.Application) -> None:
    """Register the /api/ handlers, each behind the token check."""
    routes = [
        ("GET", "/api/events", list_events), ("GET", "/api/events/{id}", get_event),
        ("POST", "/api/events/{id}/replay", replay_event),
        ("GET", "/api/deliveries", list_deliveries), ("GET", "/api/deliveries/{id}", get_delivery),
        ("POST", "/api/deliveries/{id}/retry", retry_delivery), ("POST", "/api/replay", bulk_replay),
        ("GET", "/api/sinks", list_sinks), ("POST", "/api/sinks/{name}/enable", enable_sink),
        ("POST", "/api/sinks/{name}/disable", disable_sink), ("POST", "/api/reload", reload),
        ("GET", "/api/openapi.json", openapi), ("POST", "/api/purge", purge),
    ]
    api = web.Application(middlewares=[_one_shape])  # a sub-app: webhooks skip the middleware
    api[THROTTLE] = throttle.Throttle(GUESSES, GUESS_WINDOW)
    for method, path, handler in routes:
        api.router.add_route(method, path.removeprefix("/api"), _guarded(handler))
    app.add_subapp("/api/", api)


@web.middleware
async def _one_shape(request: web.Request, handler: StreamHandler) -> web.StreamResponse:
    """Every /api/ error is ``{"error": "..."}``: aiohttp's own 404/405/413 and a 500 included."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _error(exc.status, (exc.reason or "error").lower())
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except CLIENT_FAULTS as exc:  # the client hung up mid-body: its doing, one line, no traceback
        log.info("http_request_failed", reason=client_fault(exc), path=request.path)
        return _error(400, client_fault(exc))
    except Exception:  # noqa: BLE001 - a bug: logged (one JSON line), answered in the one shape
        log.exception("admin_request_failed", method=request.method, path=request.path)
        return _error(500, "internal error (details in Ponte's log)")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(data), status=status, content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _guarded(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.Response:
        token = request.config_dict[HOLDER].settings.config.server.admin_token
        if not token:
            return _error(404, "the admin API is off: set server.admin_token to turn it on")
        refused = _refused(request, token)
        if refused is not None:
            return refused
        return await _mapped(handler, request)

    return guarded


def _refused(request: web.Request, token: str) -> web.Response | None:
    """401 unless the request carries ``Authorization: Bearer <token>`` (RFC 6750).

    The scheme is case-insensitive. The log line says why ("missing" or "mismatch"),
    never what was sent.
    """
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:  # no guess made: always the plain 401
        return _unauthorized(request, "missing", "Bearer", "missing bearer token")
    if hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode()):
        return None
    return _throttled(request) or _unauthorized(
        request, "mismatch", 'Bearer error="invalid_token"', "wrong bearer token")


def _unauthorized(request: web.Request, reason: str, challenge: str, message: str) -> web.Response:
    log.warning("admin_auth_refused", reason=reason, method=request.method, path=request.path)
    response = _error(401, message)
    response.headers["WWW-Authenticate"] = challenge
    return response


def _throttled(request: web.Request) -> web.Response | None:
    """429 with Retry-After once a client sent too many wrong tokens, else count one.

    Only a token that was sent and is wrong counts: a request without one guesses nothing
    (a probe, a misconfigured client) and always gets its 401."""
    proxies = request.config_dict[HOLDER].settings.config.server.trusted_proxies
    client, now = throttle.client_of(request, proxies), time.time()
    guesses = request.app[THROTTLE]
    wait = guesses.retry_after(client, now)
    if not wait:
        guesses.failed(client, now)
        return None
    log.warning("admin_auth_throttled", client=client, method=request.method, path=request.path)
    response = _error(429, "too many wrong tokens from this address; try again later")
    response.headers.update(throttle.retry_after_header(wait))
    return response


async def _mapped(handler: Handler, request: web.Request) -> web.Response:
    try:
        return await handler(request)
    except OperationError as exc:
        return _error(exc.status, str(exc))


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:  # no body; whitespace alone is not JSON (400)
        return {}
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise BadRequest("the request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


# --- events and deliveries --------------------------------------------------------------


async def _page(request: web.Request, lister: Any) -> web.Response:
    """One page of a list, filtered by the query string."""
    params = dict(request.query)
    limit, cursor = ops.page_args(params)
    page = await lister(ops.make_filter(params), limit, cursor)
    return _json({"items": page.items, "next": page.next})


async def _one(request: web.Request, getter: Any, what: str) -> web.Response:
    """One record by the id in the path, or 404."""
    record_id = ops.parse_id(request.match_info["id"], what)
    record = await getter(record_id)
    if record is None:
        raise NotFound(f"no {what} {record_id}")
    return _json(record)


async def list_events(request: web.Request) -> web.Response:
    """``GET /api/events``."""
    return await _page(request, request.config_dict[STORE].list_events)


async def get_event(request: web.Request) -> web.Response:
    """``GET /api/events/<id>``: raw body, deliveries and every attempt."""
    return await _one(request, request.config_dict[STORE].get_event, "event")


async def replay_event(request: web.Request) -> web.Response:
    """``POST /api/events/<id>/replay`` (optional body ``{"sinks": [...]}``)."""
    event_id = ops.parse_id(request.match_info["id"], "event")
    body = await _body(request)
    if set(body) - {"sinks"}:
        unknown = ", ".join(sorted(set(body) - {"sinks"}))
        raise BadRequest(f"unknown key(s): {unknown} (allowed: sinks)")
    sinks = body.get("sinks")
    if sinks is not None and not (isinstance(sinks, list) and all(isinstance(s, str) for s in sinks)):
        raise BadRequest("sinks must be a list of sink names")
    done = await ops.replay_event(request.config_dict[STORE], _configured(request), event_id, sinks)
    _wake(request)
    event = await request.config_dict[STORE].get_event(event_id)
    chosen = sinks or [d.sink for d in (event.deliveries if event else [])]
    return _json(done.as_dict() | {"breaker_open_until": _breakers(request, chosen)})


async def list_deliveries(request: web.Request) -> web.Response:
    """``GET /api/deliveries``."""
    return await _page(request, request.config_dict[STORE].list_deliveries)


async def get_delivery(request: web.Request) -> web.Response:
    """``GET /api/deliveries/<id>`` with its attempts."""
    return await _one(request, request.config_dict[STORE].get_delivery, "delivery")


async def retry_delivery(request: web.Request) -> web.Response:
    """``POST /api/deliveries/<id>/retry``."""
    delivery_id = ops.parse_id(request.match_info["id"], "delivery")
    done = await ops.retry_delivery(request.config_dict[STORE], _configured(request), delivery_id)
    _wake(request)
    delivery = await request.config_dict[STORE].get_delivery(delivery_id)
    sinks = [delivery.sink] if delivery else []
    return _json(done.as_dict() | {"breaker_open_until": _breakers(request, sinks)})


async def bulk_replay(request: web.Request) -> web.Response:
    """``POST /api/replay`` with a filter body; an empty filter needs ``"all": true``."""
    body = await _body(request)
    done = await ops.bulk_replay(request.config_dict[STORE], _configured(request), body)
    _wake(request)
    sinks = [body["sink"]] if isinstance(body.get("sink"), str) else sorted(_configured(request))
    return _json(done.as_dict() | {"breaker_open_until": _breakers(request, sinks)})


async def purge(request: web.Request) -> web.Response:
    """``POST /api/purge`` (``{"older_than": "30d", "dry_run": true}``, both optional)."""
    retention_days = request.config_dict[HOLDER].settings.config.storage.retention_days
    return _json(await ops.purge(request.config_dict[STORE], await _body(request), retention_days))


def _configured(request: web.Request) -> set[str]:
    return set(request.config_dict[HOLDER].settings.config.sinks)


def _breakers(request: web.Request, sinks: list[str]) -> dict[str, str | None]:
    """For each of ``sinks`` whose circuit breaker is open: when it lets a try through."""
    worker = request.config_dict.get(WORKER)
    lanes = worker.lanes if worker is not None else {}
    now = time.time()
    return {s: iso(lanes[s].breaker.open_until) for s in dict.fromkeys(sinks)
            if s in lanes and not lanes[s].breaker.allows(now)}


def _wake(request: web.Request) -> None:
    request.config_dict[WAKE].set()


# --- sinks and config ------------------------------------------------------------------


async def list_sinks(request: web.Request) -> web.Response:
    """``GET /api/sinks``: configured sinks with state, breaker and backlog."""
    store = request.config_dict[STORE]
    worker = request.config_dict.get(WORKER)
    rows = ops.sink_rows(request.config_dict[HOLDER].settings, await store.sink_states(), await store.backlog(),
                         worker.lanes if worker is not None else {})
    return _json({"items": rows, "next": None})


async def enable_sink(request: web.Request) -> web.Response:
    """``POST /api/sinks/<name>/enable``."""
    return await _set_sink(request, disabled=False)


async def disable_sink(request: web.Request) -> web.Response:
    """``POST /api/sinks/<name>/disable``: its pending deliveries wait as ``disabled``."""
    return await _set_sink(request, disabled=True)


async def _set_sink(request: web.Request, *, disabled: bool) -> web.Response:
    app = request.config_dict
    done = await ops.set_sink_disabled(app[STORE], app[HOLDER], app.get(WORKER),
                                       request.match_info["name"], disabled=disabled)
    return _json(done)


async def reload(request: web.Request) -> web.Response:
    """``POST /api/reload``: 422 with the errors when the new config is invalid."""
    errors = await reload_from_file(request.config_dict)
    if errors:
        error = "the new config is invalid; the old one keeps running"
        return _json({"status": "refused", "error": error, "errors": errors}, 422)
    return _json({"status": "reloaded"})


async def openapi(request: web.Request) -> web.Response:
    """``GET /api/openapi.json``."""
    return _json(SPEC)
