"""Agendados: the follow-ups waiting to be sent (or cancelled), and what the event page says of one.

A follow-up (``service.routing.followups``) is a delivery ``scheduled`` until its due time,
or ``cancelled`` with its reason in ``last_error``. The list shows the due time in the
configured time zone, the route, sink and event, and the buyer with the e-mail masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from aiohttp import web

from service.errors import BadRequest
from service.operate import operations as ops
from service.render.filters import mask_email
from service.sales import sale_of
from service.store.records import DeliveryRecord, Page
from service.ui.base import render, settings_of, store_of, zone_of
from service.ui.i18n import Words, choose, translator

PAGE = 50
BUYER_BYTES = 256 * 1024  # bodies bigger than this show no buyer (the list stays cheap)
STATUSES = ("scheduled", "cancelled")
FILTERS = ("status", "sink", "route", "event")
_BY_EVENT = re.compile(r"^cancelled by event #(\d+) (\S+) \((.*)\)$", re.DOTALL)
_PATH = re.compile(r"(?:^|, )[\w.]+=")
_REMOVED = frozenset({"cancelled: its route or target was removed by a reload",
                      "cancelled: its target left the config"})  # service.routing.followups


def add_routes(app: web.Application) -> None:
    """Register the scheduled follow-ups page."""
    app.router.add_get("/agendados", agendados)


async def agendados(request: web.Request) -> web.Response:
    """``GET /ui/agendados``: scheduled (or cancelled) follow-ups, filtered, newest first."""
    params = {k: request.query[k].strip() for k in FILTERS if request.query.get(k, "").strip()}
    params.setdefault("status", "scheduled")
    error, page = None, Page[DeliveryRecord]()
    try:
        if params["status"] not in STATUSES:
            raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
        _, cursor = ops.page_args({"cursor": request.query.get("cursor", "")})
        page = await store_of(request).list_deliveries(ops.make_filter(params), PAGE, cursor)
    except BadRequest as exc:
        error, cursor = str(exc), None
    buyers = await _buyers(request, page.items)
    note = followup_note(request)
    rows = [{"d": d, "buyer": buyers.get(d.event_id, ""), "note": note(d)} for d in page.items]
    settings = settings_of(request)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return render(request, "agendados.html", rows=rows, params=params, error=error, next=page.next,
                  first=cursor is None, statuses=STATUSES, sinks=sorted(settings.config.sinks),
                  routes=sorted({r.name for r in settings.config.routes}), query=query)


async def _buyers(request: web.Request, items: list[DeliveryRecord]) -> dict[int, str]:
    """The buyer of each event of the page: name and masked e-mail (bounded: one page)."""
    found: dict[int, str] = {}
    for event_id, name in {d.event_id: d.event for d in items}.items():
        event = await store_of(request).get_event(event_id)
        if event is not None and len(event.body) <= BUYER_BYTES:
            found[event_id] = buyer_of(name, event.body)
    return found


def buyer_of(event: str, body: str) -> str:
    """"Alice Johnson · a***@example.com" from a sale's ``sale.buyer``; "" when unknown."""
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return ""
    sale = sale_of(event, doc) or {}
    found = sale.get("buyer")
    buyer: dict[str, Any] = found if isinstance(found, dict) else {}
    name, email = buyer.get("name"), buyer.get("email")
    parts = [name if isinstance(name, str) else "", mask_email(email) if isinstance(email, str) else ""]
    return " · ".join(p for p in parts if p)


def followup_note(request: web.Request) -> Callable[[Any], str]:
    """For the templates: what a delivery says as a follow-up ("agendado para 14:35",
    "cancelado pela venda #123 …"), "" for any other delivery."""
    words = translator(choose(request))
    zone = zone_of(settings_of(request))
    today = datetime.now(zone).date()
    return lambda d: describe(d.status, d.due_at, d.last_error, words, zone, today)


def describe(status: str, due_at: str | None, last_error: str | None, t: Words, zone: ZoneInfo,
             today: Any) -> str:
    """A follow-up's state in words: due time (local, the date only when not today), or why
    it was cancelled (the sale's number from the cancelling event's ``same`` values)."""
    if status == "cancelled":
        return cancel_reason(last_error or "", t)
    if not due_at:
        return ""
    due = datetime.fromisoformat(due_at)
    local = (due if due.tzinfo else due.replace(tzinfo=UTC)).astimezone(zone)
    when = local.strftime("%H:%M") if local.date() == today else local.strftime("%d/%m/%Y %H:%M")
    return f"{t('agendado para')} {when}" if status == "scheduled" else f"{t('era agendado para')} {when}"


def cancel_reason(text: str, t: Words) -> str:
    """``cancelled by event #45 myeduzz.invoice_paid (sale.order_id=123)`` ->
    "cancelado pela venda #123 (evento #45 myeduzz.invoice_paid)"; a reload's reason translated."""
    found = _BY_EVENT.match(text)
    if found is not None:
        values = [v for v in _PATH.split(found[3]) if v]
        sale = ", ".join(f"#{v}" for v in values) or "?"
        return f"{t('cancelado pela venda')} {sale} ({t('evento')} #{found[1]} {found[2]})"
    if text in _REMOVED:
        return t("cancelado: a rota ou o destino saiu da configuração")
    return f"{t('cancelado')}: {text.removeprefix('cancelled: ')}" if text else t("cancelado")
