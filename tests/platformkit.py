"""Requests as Hotmart and Kiwify send them, and their fixture bodies."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

HOTTOK = "hottok-de-teste-123"
KIWIFY_TOKEN = "kiwify-token-456"
FIXTURES = Path(__file__).resolve().parent.parent / "service" / "platforms" / "fixtures"
HOTMART_EVENTS = sorted(p.stem for p in FIXTURES.glob("hotmart.*.json"))
KIWIFY_EVENTS = sorted(p.stem for p in FIXTURES.glob("kiwify.*.json"))
SOURCES = {
    "hotmart": {"type": "hotmart", "hottok": ["antigo-hottok", HOTTOK]},
    "kiwify": {"type": "kiwify", "token": KIWIFY_TOKEN},
}


def body_of(event: str) -> bytes:
    """The fixture body for a Hotmart or Kiwify event."""
    return (FIXTURES / f"{event}.json").read_bytes()


def kiwify_signature(body: bytes, token: str = KIWIFY_TOKEN) -> str:
    """Kiwify's ``?signature=``: hex HMAC-SHA1 of the raw body."""
    return hmac.new(token.encode(), body, hashlib.sha1).hexdigest()


async def post_platform(client: Any, event: str, body: bytes | None = None, *,
                        hottok: str = HOTTOK, token: str = KIWIFY_TOKEN) -> Any:
    """POST a fixture (or ``body``) authenticated as its platform does."""
    body = body_of(event) if body is None else body
    if event.startswith("hotmart."):
        return await client.post("/webhooks/hotmart", data=body,
                                 headers={"X-HOTMART-HOTTOK": hottok, "content-type": "application/json"})
    sig = kiwify_signature(body, token)
    return await client.post(f"/webhooks/kiwify?signature={sig}", data=body,
                             headers={"content-type": "application/json"})
