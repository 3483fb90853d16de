"""Regras: the loaded routes, and "testar" exactly as ``ponte routes test`` reports it."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from service.eduzz import catalogue
from service.errors import EnvelopeError
from service.operate.route_test import routing_report
from service.ui.base import render, settings_of
from service.ui.i18n import Words, choose, translator

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
        words = translator(choose(request))
        for d in report["deliveries"]:
            d["pretty"] = msgspec.json.format(msgspec.json.encode(d["message"]), indent=2).decode()
            if "followup" in d:
                d["followup_text"] = followup_words(d["followup"], words)
        for c in report["cancels"]:
            c["cancel_text"] = c["text"] if words.lang == "en" else (
                f"cancela as mensagens agendadas da rota {c['route']} para {c['sink']} com o mesmo {c['same']}")
    except (EnvelopeError, ValueError) as exc:
        error = str(exc)
    return render(request, "regras.html", routes=_routes(request), names=catalogue.EVENT_NAMES,
                  report=report, error=error, chosen=chosen, pasted=pasted,
                  status=200 if error is None else 400)


def followup_words(info: dict[str, Any], words: Words) -> str:
    """``routes test``'s "scheduled in 30m unless …" in the page's language (pt-BR first)."""
    if words.lang == "en":
        return str(info["text"])
    text = "sai agora (fora do horário de silêncio)" if info["due_in"] == "0s" else \
        f"agendado para daqui a {info['due_in']}"
    if info["unless"]:
        shown = f" ({', '.join(info['values'].values())})" if info["values"] else ""
        text += (f", a menos que chegue {' ou '.join(info['unless'])} com o mesmo "
                 f"{', '.join(info['same'])}{shown}")
        if info["missing"]:
            text += f"; o evento não tem {', '.join(info['missing'])}: nada pode cancelá-lo"
    if info["quiet_hours"]:
        text += f"; horário de silêncio {info['quiet_hours']}"
        text += " (espera terminar)" if info["held_by_quiet_hours"] else ""
    return text


def _input(chosen: str, pasted: str) -> tuple[str, bytes]:
    if pasted:
        if len(pasted) > MAX_PASTE:
            raise ValueError("the pasted body is over 1 MB")
        return "JSON", pasted.encode()
    if catalogue.spec(chosen) is None:
        raise ValueError("choose a catalogue event or paste a JSON body")
    return chosen, catalogue.fixture_bytes(chosen)
