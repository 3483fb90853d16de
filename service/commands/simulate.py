"""``ponte simulate``: send a signed catalogue example to a URL, the way Eduzz would."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import msgspec

from service.eduzz import catalogue


def simulate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event_name", metavar="EVENT_NAME", help="e.g. myeduzz.invoice_paid")
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8080/webhooks/eduzz")
    parser.add_argument("--secret", required=True, help="the Eduzz secret configured in Ponte")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                        help="override a field, e.g. data.price.value=99 (JSON values, else text)")
    parser.add_argument("--id", help="event id (default: a new random one, so it is never a duplicate)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for the answer (default 10)")


def build_body(event: str, overrides: list[str], event_id: str | None = None) -> bytes:
    """The catalogue example for ``event`` with a fresh id and sentDate and the overrides applied."""
    name = catalogue.normalize_event_name(event)
    if catalogue.spec(name) is None:
        raise ValueError(f"unknown event {event!r}: see docs/events.md for the 63 names")
    doc: dict[str, Any] = msgspec.json.decode(catalogue.fixture_bytes(name))
    doc["id"] = event_id or uuid.uuid4().hex[:25]
    doc["event"] = name
    doc["sentDate"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for item in overrides:
        path, sep, raw = item.partition("=")
        if not sep or not path:
            raise ValueError(f"--set {item!r}: expected PATH=VALUE")
        _assign(doc, path.split("."), _value(raw))
    return msgspec.json.encode(doc)


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


async def send(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST the body; return status and response text."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
        async with http.post(url, data=body, headers=headers) as resp:
            return resp.status, await resp.text()


def simulate(args: argparse.Namespace) -> int:
    """Send one signed example; exit 0 on a 2xx answer."""
    try:
        body = build_body(args.event_name, args.set, args.id)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 2
    event = catalogue.normalize_event_name(args.event_name)
    try:
        status, text = asyncio.run(send(args.url, body, signed_headers(body, args.secret, event), args.timeout))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        print(f"ponte: could not reach {args.url}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    print(f"{event} → {args.url}: HTTP {status} {text}")
    return 0 if 200 <= status < 300 else 1
