"""The baseline for ``bench/ingest.py``: a bare aiohttp server doing nothing but HTTP.

One POST handler (``/webhooks/{source}``) that reads the whole body and answers a small
JSON 200, plus ``GET /readyz``. Access log off, no middleware, same aiohttp and event
loop policy as Ponte: whatever Ponte costs above this is Ponte's own work (signature,
decoding, routing, logging, the group-committed SQLite insert).

With ``--commit DB`` the handler also saves each body with Ponte's own SQLite store
(the same group-commit writer and schema, ``synchronous=FULL``) as an event with
``--deliveries`` pending deliveries, and answers only after the commit: bare HTTP plus
durable storage, with no signature, decoding, routing or logging. It splits Ponte's
cost into "storage" and "everything else".

    python bench/bare_server.py --port 8081 [--host 127.0.0.1] [--commit DB [--deliveries 3]]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import AsyncIterator

from aiohttp import web

_ACCEPTED = b'{"status":"accepted","event_id":1}'


async def receive(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=_ACCEPTED, content_type="application/json")


async def readyz(request: web.Request) -> web.Response:
    return web.Response(body=b'{"status":"ready"}', content_type="application/json")


def committing_app(path: str, deliveries: int) -> web.Application:
    """The bare app, but each body is committed with Ponte's SQLite store before the 200."""
    from service.store.records import NewDelivery, NewEvent
    from service.store.sqlite.store import SQLiteStore

    store = SQLiteStore(path)
    ids = itertools.count(1)
    planned = [NewDelivery(f"sink{i}", "bench", None, "pending") for i in range(deliveries)]

    async def receive_and_commit(request: web.Request) -> web.Response:
        body = await request.read()
        event = NewEvent(source="bench", external_id=str(next(ids)), event="bench", sent_date=None,
                         received_at=time.time(), status="accepted", headers={}, body=body)
        saved = await store.save_event(event, planned)
        return web.Response(body=b'{"status":"accepted","event_id":%d}' % saved.event_id,
                            content_type="application/json")

    async def storage(app: web.Application) -> AsyncIterator[None]:
        await store.open()
        yield
        await store.close()

    app = web.Application(client_max_size=1_048_577)
    app.cleanup_ctx.append(storage)
    app.router.add_post("/webhooks/{source}", receive_and_commit)
    app.router.add_get("/readyz", readyz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--commit", metavar="DB", help="commit each body to this SQLite file first")
    parser.add_argument("--deliveries", type=int, default=3, help="deliveries stored per event (--commit)")
    args = parser.parse_args()
    if args.commit:
        app = committing_app(args.commit, args.deliveries)
    else:
        app = web.Application(client_max_size=1_048_577)
        app.router.add_post("/webhooks/{source}", receive)
        app.router.add_get("/readyz", readyz)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
