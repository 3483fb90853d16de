"""The receiving end for ``bench/delivery.py`` and ``bench/alertmanager.py``: a bare aiohttp server.

It answers every POST 200 at once and records, per request, its arrival time
(``time.monotonic_ns()``: CLOCK_MONOTONIC, the same clock in every process on the machine,
so it can be subtracted from a send time taken by another process) and the raw body.
The bodies are only decoded when the results are asked for, so the per-request cost is
an append. Alertmanager's bodies (``POST /am``) are decoded on arrival, to count alerts.

    POST /hook      a Ponte delivery (the forwarded Eduzz body)         -> 200
    POST /am        an Alertmanager webhook notification ({"alerts": [...]}) -> 200
    GET  /count     {"requests": N, "alerts": M, "distinct_alerts": D, "am_requests": R}
                    (?prefix=P: D counts only alert ids starting with P)
    GET  /results   per item: [arrival_ns, id, sent_ns | null]; a Ponte item is one request,
                    an Alertmanager item is one alert (all alerts of a request share its arrival)
    POST /reset     forget everything

    python bench/delivery_receiver.py --port 9100 [--host 127.0.0.1]

Loopback only: the host must be 127.0.0.1 (or another 127.x address).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import msgspec
from aiohttp import web

_OK = b'{"ok":true}'
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.encode


class Recorder:
    def __init__(self) -> None:
        self.hooks: list[tuple[int, bytes]] = []
        self.am: list[tuple[int, bytes]] = []
        self.alerts = 0
        self.am_requests = 0
        self.am_ids: set[str] = set()

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


REC = Recorder()


async def hook(request: web.Request) -> web.Response:
    body = await request.read()
    REC.hooks.append((time.monotonic_ns(), body))
    return web.Response(body=_OK, content_type="application/json")


async def am(request: web.Request) -> web.Response:
    body = await request.read()
    now = time.monotonic_ns()
    REC.am.append((now, body))
    REC.am_requests += 1
    try:
        alerts = _decode(body).get("alerts") or []
    except (msgspec.DecodeError, AttributeError):
        alerts = []
    REC.alerts += len(alerts)
    for alert in alerts:
        ident = (alert.get("labels") or {}).get("id")
        if ident is not None:
            REC.am_ids.add(ident)
    return web.Response(body=_OK, content_type="application/json")


async def count(request: web.Request) -> web.Response:
    prefix = request.query.get("prefix")
    distinct = len(REC.am_ids) if not prefix else sum(1 for i in REC.am_ids if i.startswith(prefix))
    return web.Response(body=_encode({"requests": len(REC.hooks), "alerts": REC.alerts,
                                      "distinct_alerts": distinct, "am_requests": REC.am_requests}),
                        content_type="application/json")


def _hook_item(arrival: int, body: bytes) -> list[Any]:
    try:
        doc = _decode(body)
    except msgspec.DecodeError:
        return [arrival, None, None]
    return [arrival, doc.get("id"), doc.get("benchSentNs")]


def _am_items(arrival: int, body: bytes) -> list[list[Any]]:
    try:
        doc = _decode(body)
    except msgspec.DecodeError:
        return []
    out = []
    for alert in doc.get("alerts") or []:
        labels, notes = alert.get("labels") or {}, alert.get("annotations") or {}
        sent = notes.get("sent_ns")
        out.append([arrival, labels.get("id"), int(sent) if sent else None])
    return out


async def results(request: web.Request) -> web.Response:
    items: list[list[Any]] = [_hook_item(a, b) for a, b in REC.hooks]
    am_items: list[list[Any]] = []
    for a, b in REC.am:
        am_items.extend(_am_items(a, b))
    sizes = [len(b) for _, b in REC.am]
    return web.Response(body=_encode({"hooks": items, "am": am_items, "am_requests": len(REC.am),
                                      "am_body_bytes": sum(sizes)}),
                        content_type="application/json")


async def reset(request: web.Request) -> web.Response:
    REC.reset()
    return web.Response(body=_OK, content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("delivery_receiver: loopback addresses only (127.x)")
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/hook", hook)
    app.router.add_post("/am", am)
    app.router.add_get("/count", count)
    app.router.add_get("/results", results)
    app.router.add_post("/reset", reset)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
