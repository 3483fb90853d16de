"""The admin API: bearer-token protected JSON over the operator verbs.

Without ``server.admin_token`` every ``/api/`` path answers 404, so the API is never
open by accident. Lists answer ``{"items": [...], "next": <cursor or null>}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from service import operations as ops
from service.keys import HOLDER, STORE, WORKER

Handler = Callable[[web.Request], Awaitable[web.Response]]


def add_routes(app: web.Application) -> None:
    """Register the /api/ handlers, each behind the token check."""
    routes = [
        ("GET", "/api/events", list_events), ("GET", "/api/events/{id}", get_event),
        ("POST", "/api/events/{id}/replay", replay_event),
        ("GET", "/api/deliveries", list_deliveries), ("GET", "/api/deliveries/{id}", get_delivery),
        ("POST", "/api/deliveries/{id}/retry", retry_delivery), ("POST", "/api/replay", bulk_replay),
        ("GET", "/api/sinks", list_sinks), ("POST", "/api/sinks/{name}/enable", enable_sink),
        ("POST", "/api/sinks/{name}/disable", disable_sink), ("POST", "/api/reload", reload),
        ("GET", "/api/openapi.json", openapi),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _guarded(handler))


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(data), status=status, content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _guarded(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.Response:
        token = request.app[HOLDER].settings.config.server.admin_token
        if not token:
            return _error(404, "the admin API is off: set server.admin_token to turn it on")
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"},
                                content_type="application/json", text='{"error": "missing bearer token"}')
        if not hmac.compare_digest(given[7:].encode("utf-8", "surrogateescape"), token.encode()):
            return _error(403, "wrong token")
        return await _mapped(handler, request)

    return guarded


async def _mapped(handler: Handler, request: web.Request) -> web.Response:
    try:
        return await handler(request)
    except ops.BadRequest as exc:
        return _error(400, str(exc))
    except ops.NotFound as exc:
        return _error(404, str(exc))
    except ops.Conflict as exc:
        return _error(409, str(exc))


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise ops.BadRequest("the request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ops.BadRequest("the request body must be a JSON object")
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
        raise ops.NotFound(f"no {what} {record_id}")
    return _json(record)


async def list_events(request: web.Request) -> web.Response:
    """``GET /api/events``."""
    return await _page(request, request.app[STORE].list_events)


async def get_event(request: web.Request) -> web.Response:
    """``GET /api/events/<id>``: raw body, deliveries and every attempt."""
    return await _one(request, request.app[STORE].get_event, "event")


async def replay_event(request: web.Request) -> web.Response:
    """``POST /api/events/<id>/replay`` (optional body ``{"sinks": [...]}``)."""
    event_id = ops.parse_id(request.match_info["id"], "event")
    sinks = (await _body(request)).get("sinks")
    if sinks is not None and not (isinstance(sinks, list) and all(isinstance(s, str) for s in sinks)):
        raise ops.BadRequest("sinks must be a list of sink names")
    done = await ops.replay_event(request.app[STORE], request.app[HOLDER].settings, event_id, sinks)
    _wake(request)
    return _json(done.as_dict())


async def list_deliveries(request: web.Request) -> web.Response:
    """``GET /api/deliveries``."""
    return await _page(request, request.app[STORE].list_deliveries)


async def get_delivery(request: web.Request) -> web.Response:
    """``GET /api/deliveries/<id>`` with its attempts."""
    return await _one(request, request.app[STORE].get_delivery, "delivery")


async def retry_delivery(request: web.Request) -> web.Response:
    """``POST /api/deliveries/<id>/retry``."""
    delivery_id = ops.parse_id(request.match_info["id"], "delivery")
    done = await ops.retry_delivery(request.app[STORE], request.app[HOLDER].settings, delivery_id)
    _wake(request)
    return _json(done.as_dict())


async def bulk_replay(request: web.Request) -> web.Response:
    """``POST /api/replay`` with a filter body; an empty filter needs ``"all": true``."""
    done = await ops.bulk_replay(request.app[STORE], request.app[HOLDER].settings, await _body(request))
    _wake(request)
    return _json(done.as_dict())


def _wake(request: web.Request) -> None:
    from service.keys import WAKE

    request.app[WAKE].set()


# --- sinks and config ------------------------------------------------------------------


async def list_sinks(request: web.Request) -> web.Response:
    """``GET /api/sinks``: configured sinks with state, breaker and backlog."""
    store = request.app[STORE]
    worker = request.app.get(WORKER)
    rows = ops.sink_rows(request.app[HOLDER].settings, await store.sink_states(), await store.backlog(),
                         worker.lanes if worker is not None else {})
    return _json({"items": rows, "next": None})


async def enable_sink(request: web.Request) -> web.Response:
    """``POST /api/sinks/<name>/enable``."""
    return await _set_sink(request, disabled=False)


async def disable_sink(request: web.Request) -> web.Response:
    """``POST /api/sinks/<name>/disable``: its pending deliveries wait as ``disabled``."""
    return await _set_sink(request, disabled=True)


async def _set_sink(request: web.Request, *, disabled: bool) -> web.Response:
    done = await ops.set_sink_disabled(request.app[STORE], request.app[HOLDER], request.app.get(WORKER),
                                       request.match_info["name"], disabled=disabled)
    return _json(done)


async def reload(request: web.Request) -> web.Response:
    """``POST /api/reload``: 422 with the errors when the new config is invalid."""
    from service.reload import reload_from_file

    errors = await reload_from_file(request.app)
    if errors:
        return _json({"status": "refused", "errors": errors}, 422)
    return _json({"status": "reloaded"})


async def openapi(request: web.Request) -> web.Response:
    """``GET /api/openapi.json``."""
    from service.openapi import SPEC

    return _json(SPEC)
