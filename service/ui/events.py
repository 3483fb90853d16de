"""Eventos (the filtered list, live) and Evento (one event, its deliveries, replay)."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

import msgspec
from aiohttp import web

from service.delivery.opevents import SOURCE as OP_SOURCE
from service.errors import BadRequest, Conflict, ConsoleBusy, NotFound
from service.keys import WAKE
from service.operate import operations as ops
from service.render.filters import brl
from service.store.records import DELIVERY_STATUSES, EventDetail, EventRecord, Page
from service.ui.base import log, notice, render, settings_of, store_of
from service.ui.i18n import choose, translator
from service.ui.mask import mask_doc, mask_text
from service.ui.sale import SUMMARY_BYTES, sale_line
from service.ui.scheduled import followup_note

PAGE = 50
SCAN = 10_000  # events a body search or a status filter looks at per page
SHOWN_BODY = 64 * 1024  # a body bigger than this is shown cut, with a download link
FILTERS = ("event", "platform", "source", "status", "since", "external_id", "email", "ponte")
PLATFORM_LABELS = {"eduzz": "Eduzz", "hotmart": "Hotmart", "kiwify": "Kiwify",
                   "token": "Outras (token)", "hmac": "HMAC genérico"}
PERIODS = ("1h", "24h", "7d", "30d")


def add_routes(app: web.Application) -> None:
    """Register the event list, its live feed, one event, its body and replay."""
    app.router.add_get("/eventos", eventos)
    app.router.add_get("/eventos/novos", novos)
    app.router.add_get("/eventos/{id}", evento)
    app.router.add_get("/eventos/{id}/corpo", corpo)
    app.router.add_post("/eventos/{id}/reenviar", reenviar)


def _filters(request: web.Request) -> dict[str, str]:
    return {k: request.query[k].strip() for k in FILTERS if request.query.get(k, "").strip()}


async def _list(request: web.Request, params: dict[str, str], cursor: str | None, limit: int) -> Page[EventRecord]:
    """One page of events through the store's own list, or a bounded scan for e-mail/status.

    Ponte's own ``ponte.*`` events are left out unless ``ponte=1`` or a source is chosen."""
    flt = ops.make_filter({k: v for k, v in params.items() if k not in ("email", "platform", "ponte")})
    if params.get("platform"):
        flt = dataclasses.replace(flt, sources=_platform_sources(request, params["platform"]))
    if params.get("ponte") != "1" and not params.get("source"):
        flt = dataclasses.replace(flt, not_source=OP_SOURCE)
    if params.get("email") or params.get("status"):
        return await store_of(request).scan_events(flt, params.get("email"), limit, cursor, SCAN)
    return await store_of(request).list_events(flt, limit, cursor)


def _platform_sources(request: web.Request, platform: str) -> tuple[str, ...]:
    """The configured sources of a platform (a source's ``type``: eduzz, hotmart, kiwify …)."""
    if platform not in PLATFORM_LABELS:
        raise BadRequest(f"platform must be one of {', '.join(PLATFORM_LABELS)}")
    sources = settings_of(request).config.sources
    return tuple(n for n, cfg in sources.items() if cfg.__struct_config__.tag == platform)


def _platforms(request: web.Request) -> list[tuple[str, str]]:
    """(type, label) of each platform a configured source has, in the labels' order."""
    kinds = {cfg.__struct_config__.tag for cfg in settings_of(request).config.sources.values()}
    return [(k, label) for k, label in PLATFORM_LABELS.items() if k in kinds]


async def _with_summary(request: web.Request, items: list[EventRecord]) -> list[dict[str, Any]]:
    """The rows of the list: each event's fields, who bought what for how much (e-mail
    masked), and its deliveries counted by status."""
    ids = [i.event_id for i in items]
    summary = await store_of(request).delivery_summary(ids)
    bodies = await store_of(request).event_bodies(ids, SUMMARY_BYTES)
    return [msgspec.structs.asdict(item) | {"deliveries": summary.get(item.event_id, {})}
            | sale_line(bodies.get(item.event_id)) for item in items]


async def eventos(request: web.Request) -> web.Response:
    """``GET /ui/eventos``: filters, cursor paging; the first page updates itself."""
    params = _filters(request)
    error, page = None, Page[EventRecord]()
    try:
        _, cursor = ops.page_args({"cursor": request.query.get("cursor", "")})
        page = await _list(request, params, cursor, PAGE)
    except (BadRequest, ConsoleBusy) as exc:
        error, cursor = str(exc), None
    items = await _with_summary(request, page.items)
    query = urlencode(params)
    return render(request, "eventos.html", items=items, next=page.next, params=params, error=error,
                  statuses=DELIVERY_STATUSES, periods=PERIODS, first=cursor is None, query=query,
                  sources=sorted(settings_of(request).config.sources), platforms=_platforms(request),
                  newest=max((i["event_id"] for i in items), default=0), scan=SCAN)


async def novos(request: web.Request) -> web.Response:
    """``GET /ui/eventos/novos?after=ID&…``: rows of events newer than ID (for the live list)."""
    after = request.query.get("after", "0")
    if not after.isdigit():
        raise web.HTTPBadRequest(text="after must be an event id")
    try:
        page = await _list(request, _filters(request), None, PAGE)
    except BadRequest as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    except ConsoleBusy as exc:
        raise web.HTTPServiceUnavailable(text=str(exc)) from None
    fresh = [i for i in page.items if i.event_id > int(after)]
    items = await _with_summary(request, fresh)
    response = render(request, "_event_rows.html", items=items)
    response.headers["X-Ponte-Newest"] = str(max([int(after), *(i.event_id for i in fresh)]))
    response.headers["X-Ponte-More"] = "1" if fresh and len(fresh) == len(page.items) == PAGE else "0"
    return response


async def _event(request: web.Request) -> EventDetail:
    event_id = ops.parse_id(request.match_info["id"], "event")
    event = await store_of(request).get_event(event_id)
    if event is None:
        raise web.HTTPNotFound(text=f"no event {event_id}")
    return event


async def evento(request: web.Request) -> web.Response:
    """``GET /ui/eventos/<id>``: envelope, masked body (``?mostrar=1`` shows it, logged),
    every delivery with its attempts."""
    try:
        event = await _event(request)
    except NotFound as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    show = request.query.get("mostrar") == "1"
    if show:
        log.info("console_personal_data_shown", event_id=event.event_id, client=request.remote)
    body, cut, price = _shown_body(event.body, show)
    configured = set(settings_of(request).config.sinks)
    return render(request, "evento.html", event=event, body=body, cut=cut, show=show, price=price,
                  size=len(event.body.encode()), configured=configured,
                  followup=followup_note(request))


def _shown_body(raw: str, show: bool) -> tuple[str, bool, str]:
    """(text to show, whether it was cut, the price in R$ if any)."""
    if len(raw) > SHOWN_BODY:
        head = raw[:SHOWN_BODY]
        return (head if show else mask_text(head)), True, ""
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return (raw if show else mask_text(raw)), False, ""
    data = doc.get("data") if isinstance(doc, dict) else None
    price = brl(data.get("price")) if isinstance(data, dict) and data.get("price") is not None else ""
    pretty = msgspec.json.format(msgspec.json.encode(doc if show else mask_doc(doc)), indent=2)
    return pretty.decode(), False, price


async def corpo(request: web.Request) -> web.Response:
    """``GET /ui/eventos/<id>/corpo``: the raw body as a download (logged: it is personal data)."""
    try:
        event = await _event(request)
    except NotFound as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    log.info("console_body_downloaded", event_id=event.event_id, client=request.remote)
    return web.Response(body=event.body.encode(), content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="evento-{event.event_id}.json"'})


async def reenviar(request: web.Request) -> web.StreamResponse:
    """``POST /ui/eventos/<id>/reenviar`` (field ``sink`` for one sink): replay."""
    form = await request.post()
    sink = str(form.get("sink", "")) or None
    back = f"/ui/eventos/{request.match_info['id']}"
    try:
        event_id = ops.parse_id(request.match_info["id"], "event")
        done = await ops.replay_event(store_of(request), set(settings_of(request).config.sinks), event_id,
                                      [sink] if sink else None)
    except (BadRequest, NotFound, Conflict) as exc:
        notice(request, "error", str(exc))
    else:
        request.config_dict[WAKE].set()
        log.info("console_event_replayed", event_id=event_id, sink=sink, rescheduled=done.rescheduled)
        words = translator(choose(request))
        notice(request, "ok", f"{words('Enviadas para a fila')}: {done.rescheduled}")
    raise web.HTTPSeeOther(back)
