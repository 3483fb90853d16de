"""``ponte simulate``: send an example event to a URL, authenticated as its platform does.

Eduzz events (the catalogue's examples) are signed with ``x-signature`` (HMAC-SHA256 of the
body); ``hotmart.*`` examples carry the hottok in ``X-HOTMART-HOTTOK``; ``kiwify.*``
examples get ``?signature=``, the hex HMAC-SHA1 of the body keyed by the token. ``--secret``
is the secret, hottok or token configured in Ponte's source.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import hashlib
import hmac
import sys
import time
import uuid
from typing import Any

import aiohttp
import msgspec
from yarl import URL

from service.eduzz import catalogue
from service.platforms import example_bytes, example_names
from service.sales.kiwify import payload
from service.timeparse import iso


def simulate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event_name", metavar="EVENT_NAME",
                        help="e.g. myeduzz.invoice_paid, hotmart.purchase_approved, "
                        "kiwify.order_approved, or ping (Eduzz's URL check)")
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8080/webhooks/eduzz")
    parser.add_argument("--secret", required=True,
                        help="the source's Eduzz secret, Hotmart hottok or Kiwify token")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                        help="override a field, e.g. data.price.value=99 (JSON values, else text; "
                        "data.paid follows data.price unless set too)")
    parser.add_argument("--id", help="event id (default: a new random one, so it is never a duplicate)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for the answer (default 10)")


PING = "ping"  # Eduzz's URL verification event: Ponte answers 200 and stores it as ignored
PLATFORMS = ("hotmart.", "kiwify.")


def build_body(event: str, overrides: list[str], event_id: str | None = None) -> bytes:
    """The catalogue example for ``event`` with a fresh id and sentDate and the overrides applied.

    ``ping`` is the verification event (``data`` empty). The examples have no discount, so
    ``data.paid`` mirrors ``data.price``: a ``--set`` of one price also sets the other
    unless both are set, and the built-in messages (which show what was paid) follow.
    """
    name = event_label(event)
    if name.startswith(PLATFORMS):
        doc = _platform_example(name, event, event_id)
    else:
        doc = _example(name, event)
        doc["id"] = event_id or uuid.uuid4().hex[:25]
        doc["event"] = name
        doc["sentDate"] = iso(time.time())
    paths = []
    for item in overrides:
        path, sep, raw = item.partition("=")
        if not sep or not path:
            raise ValueError(f"--set {item!r}: expected PATH=VALUE")
        paths.append(path)
        _assign(doc, path.split("."), _value(raw))
    if not name.startswith(PLATFORMS):
        _mirror_price(doc, paths)
    return msgspec.json.encode(doc)


def event_label(event: str) -> str:
    """The stored name: ``invoice_paid`` -> ``myeduzz.invoice_paid``; platforms lowercased."""
    lowered = event.strip().lower()
    return lowered if lowered.startswith(PLATFORMS) else catalogue.normalize_event_name(event)


def _platform_example(name: str, asked: str, event_id: str | None) -> dict[str, Any]:
    """A Hotmart or Kiwify example with a fresh identity (never a duplicate unless ``--id``)."""
    raw = example_bytes(name)
    if raw is None:
        close = difflib.get_close_matches(name, example_names(), n=1, cutoff=0.6)
        hint = f": did you mean {close[0]}?" if close else ""
        raise ValueError(f"unknown event {asked!r}{hint} (docs/platforms.md lists the examples)")
    doc: dict[str, Any] = msgspec.json.decode(raw)
    fresh = event_id or str(uuid.uuid4())
    if name.startswith("hotmart."):
        doc["id"] = fresh
        doc["creation_date"] = int(time.time() * 1000)
    else:
        order = payload(doc)
        order["order_id" if "order_id" in order else "id"] = fresh
    return doc


def _example(name: str, asked: str) -> dict[str, Any]:
    if name == PING:
        return {"data": {}}
    if catalogue.spec(name) is None:
        raise ValueError(catalogue.unknown_event(asked, also=[PING]))
    example: dict[str, Any] = msgspec.json.decode(catalogue.fixture_bytes(name))
    return example


def _mirror_price(doc: dict[str, Any], paths: list[str]) -> None:
    data = doc.get("data")
    if not isinstance(data, dict):
        return
    for one, other in (("price", "paid"), ("paid", "price")):
        touched = any(p == f"data.{one}" or p.startswith(f"data.{one}.") for p in paths)
        kept = not any(p == f"data.{other}" or p.startswith(f"data.{other}.") for p in paths)
        if touched and kept and other in data:
            data[other] = data[one]
            return


def _value(raw: str) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw


def _assign(node: Any, path: list[str], value: Any) -> None:
    for key in path[:-1]:
        if isinstance(node, list) and key.isdigit():
            node = node[int(key)]
        else:
            node = node.setdefault(key, {})
    if isinstance(node, list) and path[-1].isdigit():
        node[int(path[-1])] = value
    else:
        node[path[-1]] = value


def signed_headers(body: bytes, secret: str, event: str) -> dict[str, str]:
    """The headers Eduzz sends with a delivery."""
    return {
        "content-type": "application/json",
        "user-agent": "Eduzz Webhook",
        "x-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "x-delivery-attempt": "1",
        "x-subscription": f"ponte0simulate0000000000:{event}",
    }


def request_for(event: str, url: str, body: bytes, secret: str) -> tuple[str, dict[str, str]]:
    """The URL and headers of a delivery as the event's platform sends it."""
    if event.startswith("hotmart."):
        return url, {"content-type": "application/json", "x-hotmart-hottok": secret}
    if event.startswith("kiwify."):
        signature = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        return str(URL(url).update_query(signature=signature)), {"content-type": "application/json"}
    return url, signed_headers(body, secret, event)


async def send(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST the body; return status and response text."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
        http.post(url, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


def simulate(args: argparse.Namespace) -> int:
    """Send one authenticated example; exit 0 on a 2xx answer."""
    try:
        body = build_body(args.event_name, args.set, args.id)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 2
    event = event_label(args.event_name)
    url, headers = request_for(event, args.url, body, args.secret)
    try:
        status, text = asyncio.run(send(url, body, headers, args.timeout))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        print(f"ponte: could not reach {args.url}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    print(f"{event} → {args.url}: HTTP {status} {text}")
    return 0 if 200 <= status < 300 else 1
