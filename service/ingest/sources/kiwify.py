"""The ``type: kiwify`` source: ``?signature=`` = hex HMAC-SHA1(token, raw body).

Kiwify sends one flat object per event (no envelope). The event is ``webhook_event_type``
(``order_approved`` -> ``kiwify.order_approved``); an abandoned cart has none and is
``kiwify.abandoned_cart``. The identity for duplicates is ``order_id`` with the event name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDictProxy

from service.config.schema import KiwifySourceConfig
from service.errors import EnvelopeError, SignatureError
from service.ingest.envelope import Envelope, decode
from service.ingest.sources.hmac import matches_any
from service.sales.kiwify import payload

PARAM = "signature"
PREFIX = "kiwify."
ABANDONED = "abandoned_cart"


class KiwifyVerifier:
    """Kiwify's query signature, with several tokens for rotation; fails closed without one."""

    kind = "kiwify"

    def __init__(self, name: str, cfg: KiwifySourceConfig) -> None:
        self.name = name
        self.tokens = cfg.tokens

    def verify(self, headers: CIMultiDictProxy[str], body: bytes,
               query: Mapping[str, str] | None = None) -> None:
        """Raise SignatureError unless ``?signature=`` is the body's HMAC-SHA1 with a token."""
        given = (query or {}).get(PARAM, "").strip().lower()
        if not given or not self.tokens:
            raise SignatureError("missing ?signature= or no token configured", reason="missing")
        if not given.isascii() or not matches_any(self.tokens, body, given, algorithm="sha1"):
            raise SignatureError("wrong ?signature=")

    def envelope(self, headers: CIMultiDictProxy[str], body: bytes,
                 query: Mapping[str, str] | None = None) -> Envelope:
        """Decode; name the event from ``webhook_event_type`` and key it on ``order_id``."""
        env = decode(body, event="")
        name = event_name(env.doc)
        order = payload(env.doc)
        key = order.get("order_id") if name != PREFIX + ABANDONED else order.get("id")
        ident = f"{key}:{name}" if isinstance(key, (str, int)) and str(key) else env.external_id
        return Envelope(ident, name, None, env.doc)


def event_name(doc: dict[str, Any]) -> str:
    """``kiwify.<webhook_event_type>``; an abandoned cart (no type) is ``kiwify.abandoned_cart``."""
    raw = payload(doc).get("webhook_event_type")
    if isinstance(raw, str) and raw.strip():
        if len(raw) > 200:
            raise EnvelopeError('"webhook_event_type" is longer than 200 characters')
        return PREFIX + raw.strip().lower()
    if doc.get("status") == "abandoned" or "checkout_link" in doc:
        return PREFIX + ABANDONED
    raise EnvelopeError('missing "webhook_event_type": the body must name its event')
