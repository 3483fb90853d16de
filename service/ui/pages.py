"""Painel (overview), Destinos (sinks) and Falhas (dead letters)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from service.delivery.worker import WORKER
from service.errors import BadRequest, Conflict, NotFound
from service.keys import HOLDER, WAKE
from service.operate import operations as ops
from service.store.records import Filter
from service.ui.base import log, notice, render, settings_of, store_of, zone_of
from service.ui.chart import hourly_chart
from service.ui.failures import KindGroup, by_kind
from service.ui.i18n import Words, age, choose, rate_text, translator
from service.ui.mask import shown

CAP = 100_000  # every count on a page stops here ("100.000+")
GROUP_CAP = 10_000  # failure groups are made from the newest 10,000 dead letters
BULK_CAP = 1_000_000


def add_routes(app: web.Application) -> None:
    """Register the overview, sinks and failures pages."""
    app.router.add_get("/", painel)
    app.router.add_get("/destinos", destinos)
    app.router.add_post("/destinos/{name}/{action:ativar|desativar}", set_sink)
    app.router.add_get("/falhas", falhas)
    app.router.add_post("/entregas/{id}/tentar", retry_one)
    app.router.add_post("/falhas/reenviar", bulk)


async def sink_table(request: web.Request) -> list[dict[str, Any]]:
    """Every configured sink with state, breaker, backlog (paused deliveries included, as the
    Painel counts them), oldest waiting and 24 h success rate, plus sinks no longer
    configured that still have deliveries waiting."""
    store, settings, now = store_of(request), settings_of(request), time.time()
    backlog = await store.backlog()
    worker = request.config_dict.get(WORKER)
    rows = ops.sink_rows(settings, await store.sink_states(), backlog, worker.lanes if worker else {})
    outcomes = await store_of(request).sink_outcomes(now - 86400, CAP)
    oldest: dict[str, float | None] = {sink: first for sink, _, first in backlog}
    for row in rows:
        cfg = settings.config.sinks[row["name"]]
        ok, bad = outcomes.get(row["name"], (0, 0))
        paused = await _paused(request, row)
        row.update(rate=rate_text(cfg.rate_per_second), concurrency=cfg.concurrency, removed=False,
                   backlog=row["backlog"] + paused, paused=paused,
                   success=None if ok + bad == 0 else round(100 * ok / (ok + bad), 1),
                   oldest=_since(oldest.get(row["name"]), now))
    for sink, count, first in backlog:
        if sink not in settings.config.sinks:
            rows.append({"name": sink, "type": "?", "enabled": False, "disabled_reason": None,
                         "breaker": "closed", "in_flight": 0, "backlog": count, "rate": None,
                         "concurrency": 0, "removed": True, "success": None, "paused": 0,
                         "oldest": _since(first, now)})
    return rows


async def _paused(request: web.Request, row: dict[str, Any]) -> int:
    """Deliveries waiting as ``disabled`` (only a disabled sink has them), up to CAP."""
    if row["enabled"]:
        return 0
    return await store_of(request).count_deliveries(Filter(status="disabled", sink=row["name"]), CAP)


def _since(moment: float | None, now: float) -> float | None:
    return None if moment is None else now - moment


async def painel(request: web.Request) -> web.Response:
    """``GET /ui/``: counts for 24 h and 7 d, sinks, the hourly chart, what needs attention."""
    store, now = store_of(request), time.time()
    day = await store.window_counts(now - 86400, CAP)
    week = await store.window_counts(now - 7 * 86400, CAP)
    sinks = await sink_table(request)
    chart = hourly_chart(await store.hourly(now - 24 * 3600, CAP), now, zone_of(settings_of(request)))
    groups = await _kinds(request, 5)
    return render(request, "painel.html", day=day, week=week, sinks=sinks, chart=chart, cap=CAP,
                  attention=_attention(sinks, groups, translator(choose(request))), groups=groups, age=age,
                  actions=False)


async def _kinds(request: web.Request, limit: int) -> list[KindGroup]:
    """The newest GROUP_CAP dead letters grouped by sink and kind of failure."""
    return by_kind(await store_of(request).failure_groups(GROUP_CAP, GROUP_CAP), choose(request), limit)


def _attention(sinks: list[dict[str, Any]], groups: list[KindGroup],
               words: Words) -> list[tuple[str, str, str]]:
    """(kind, sink, detail) for what to look at first: dead letters, paused sends, disabled sinks."""
    items = [("dead", g.sink, f"{g.count}× {g.label or words.ponte(shown(g.example))}") for g in groups]
    for row in sinks:
        if row["removed"]:
            items.append(("removed", row["name"], str(row["backlog"])))
        elif row["breaker"] == "open":
            items.append(("breaker", row["name"], ""))
        elif not row["enabled"]:
            items.append(("disabled", row["name"], words.ponte(row["disabled_reason"])))
    return items


async def destinos(request: web.Request) -> web.Response:
    """``GET /ui/destinos``: state, rate limit and backlog of each sink."""
    return render(request, "destinos.html", sinks=await sink_table(request), age=age, actions=True)


async def set_sink(request: web.Request) -> web.StreamResponse:
    """``POST /ui/destinos/<name>/ativar|desativar`` through the same verb as the API."""
    name, disabled = request.match_info["name"], request.match_info["action"] == "desativar"
    words = translator(choose(request))
    try:
        done = await ops.set_sink_disabled(store_of(request), request.config_dict[HOLDER],
                                           request.config_dict.get(WORKER), name, disabled=disabled)
    except NotFound as exc:
        notice(request, "error", str(exc))
    else:
        log.info("console_sink_changed", sink=name, disabled=disabled)
        state = words("desativado") if disabled else words("ativo")
        notice(request, "ok", f"{name}: {state} ({done['deliveries_changed']})")
    raise web.HTTPSeeOther("/ui/destinos")


async def falhas(request: web.Request) -> web.Response:
    """``GET /ui/falhas``: dead letters grouped by sink and error, and the newest ones, paged."""
    _, cursor = ops.page_args({"cursor": request.query.get("cursor", "")})
    sink = request.query.get("sink") or None
    page = await store_of(request).list_deliveries(Filter(status="failed", sink=sink), 50, cursor)
    groups = await _kinds(request, 50)
    return render(request, "falhas.html", groups=groups, page=page, sink=sink or "",
                  sinks=sorted(settings_of(request).config.sinks), confirm=None, form={})


async def retry_one(request: web.Request) -> web.StreamResponse:
    """``POST /ui/entregas/<id>/tentar``: retry one delivery now."""
    form = await request.post()
    back = _back(str(form.get("back", "")))
    try:
        delivery_id = ops.parse_id(request.match_info["id"], "delivery")
        done = await ops.retry_delivery(store_of(request), set(settings_of(request).config.sinks), delivery_id)
    except (BadRequest, NotFound, Conflict) as exc:
        notice(request, "error", str(exc))
    else:
        request.config_dict[WAKE].set()
        log.info("console_delivery_retried", delivery_id=delivery_id, rescheduled=done.rescheduled)
        _done_notice(request, done)
    raise web.HTTPSeeOther(back)


async def bulk(request: web.Request) -> web.StreamResponse:
    """``POST /ui/falhas/reenviar``: first shows how many would be sent, then sends on confirm."""
    form = await request.post()
    params = {k: str(form.get(k, "")) for k in ("sink", "event", "since") if form.get(k)}
    params["status"] = "failed"
    try:
        flt = ops.make_filter(params)
    except BadRequest as exc:
        notice(request, "error", str(exc))
        raise web.HTTPSeeOther("/ui/falhas") from None
    if form.get("confirmed") != "1":
        count = await store_of(request).count_deliveries(flt, BULK_CAP)
        page = await store_of(request).list_deliveries(Filter(status="failed"), 50, None)
        return render(request, "falhas.html", groups=[], page=page, sink="", form=params,
                      sinks=sorted(settings_of(request).config.sinks), confirm=count)
    done = await ops.bulk_replay(store_of(request), set(settings_of(request).config.sinks), params)
    request.config_dict[WAKE].set()
    log.info("console_bulk_replayed", **params, rescheduled=done.rescheduled)
    _done_notice(request, done)
    raise web.HTTPSeeOther("/ui/falhas")


def _done_notice(request: web.Request, done: ops.Rescheduled) -> None:
    words = translator(choose(request))
    text = f"{words('Enviadas para a fila')}: {done.rescheduled}"
    notice(request, "ok", text + (f" ({done.skipped} {words('ignoradas')})" if done.skipped else ""))


def _back(target: str) -> str:
    return target if target.startswith("/ui/") and not target.startswith("//") else "/ui/falhas"
