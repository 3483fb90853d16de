"""The baseline for ``bench/ingest.py``: a bare aiohttp server doing nothing but HTTP.

One POST handler (``/webhooks/{source}``) that reads the whole body and answers a small
JSON 200, plus ``GET /readyz``. Access log off, no middleware, same aiohttp and event
loop policy as Ponte: whatever Ponte costs above this is Ponte's own work (signature,
decoding, routing, logging, the group-committed SQLite insert).

    python bench/bare_server.py --port 8081 [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse

from aiohttp import web

_ACCEPTED = b'{"status":"accepted","event_id":1}'


async def receive(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=_ACCEPTED, content_type="application/json")


async def readyz(request: web.Request) -> web.Response:
    return web.Response(body=b'{"status":"ready"}', content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application(client_max_size=1_048_577)
    app.router.add_post("/webhooks/{source}", receive)
    app.router.add_get("/readyz", readyz)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
