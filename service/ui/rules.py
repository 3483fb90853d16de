"""Regras: the loaded routes, and "testar" exactly as ``ponte routes test`` reports it."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from service.eduzz import catalogue
from service.errors import EnvelopeError
from service.operate.route_test import routing_report
from service.ui.base import render, settings_of

MAX_PASTE = 1024 * 1024


def add_routes(app: web.Application) -> None:
    """Register the routes page and its test form."""
    app.router.add_get("/regras", regras)
    app.router.add_post("/regras/testar", testar)


def _routes(request: web.Request) -> list[dict[str, Any]]:
    rows = []
    for route in settings_of(request).config.routes:
        where = msgspec.json.format(msgspec.json.encode(route.where), indent=2).decode() if route.where else ""
        rows.append({"name": route.name, "events": route.events, "where": where, "stop": route.stop,
                     "targets": [t.sink for t in route.targets]})
    return rows


async def regras(request: web.Request) -> web.Response:
    """``GET /ui/regras``: the routes table and the test form."""
    return render(request, "regras.html", routes=_routes(request), names=catalogue.EVENT_NAMES,
                  report=None, error=None, chosen="myeduzz.invoice_paid", pasted="")


async def testar(request: web.Request) -> web.Response:
    """``POST /ui/regras/testar``: a catalogue event or pasted JSON through the routes."""
    form = await request.post()
    chosen, pasted = str(form.get("event", "")), str(form.get("body", "")).strip()
    report, error = None, None
    try:
        label, body = _input(chosen, pasted)
        report = routing_report(settings_of(request), label, body)
        for d in report["deliveries"]:
            d["pretty"] = msgspec.json.format(msgspec.json.encode(d["message"]), indent=2).decode()
    except (EnvelopeError, ValueError) as exc:
        error = str(exc)
    return render(request, "regras.html", routes=_routes(request), names=catalogue.EVENT_NAMES,
                  report=report, error=error, chosen=chosen, pasted=pasted,
                  status=200 if error is None else 400)


def _input(chosen: str, pasted: str) -> tuple[str, bytes]:
    if pasted:
        if len(pasted) > MAX_PASTE:
            raise ValueError("the pasted body is over 1 MB")
        return "JSON", pasted.encode()
    if catalogue.spec(chosen) is None:
        raise ValueError("choose a catalogue event or paste a JSON body")
    return chosen, catalogue.fixture_bytes(chosen)
