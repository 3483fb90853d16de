"""The ``type: hotmart`` source: postback v2.0.0, authenticated by the ``X-HOTMART-HOTTOK`` header.

The hottok is a shared token, not a signature: it is compared in constant time with every
configured one (several during a rotation). ``PURCHASE_APPROVED`` is stored as
``hotmart.purchase_approved``; the envelope ``id`` is the identity for duplicates.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from multidict import CIMultiDictProxy

from service.config.schema import HotmartSourceConfig
from service.errors import SignatureError
from service.ingest.envelope import Envelope, decode
from service.timeparse import iso

HEADER = "x-hotmart-hottok"
PREFIX = "hotmart."


def token_matches(tokens: list[str], given: str) -> bool:
    """Constant-time check of ``given`` against every token; False with none."""
    found = False
    for token in tokens:
        found |= hmac.compare_digest(token.encode(), given.encode())
    return found


class HotmartVerifier:
    """Hotmart's hottok, with several for rotation; fails closed without one."""

    kind = "hotmart"

    def __init__(self, name: str, cfg: HotmartSourceConfig) -> None:
        self.name = name
        self.tokens = cfg.tokens

    def verify(self, headers: CIMultiDictProxy[str], body: bytes,
               query: Mapping[str, str] | None = None) -> None:
        """Raise SignatureError unless ``X-HOTMART-HOTTOK`` is a configured hottok."""
        given = headers.get(HEADER, "").strip()
        if not given or not self.tokens:
            raise SignatureError("missing X-HOTMART-HOTTOK header or no hottok configured",
                                 reason="missing")
        if not given.isascii() or not token_matches(self.tokens, given):
            raise SignatureError("wrong X-HOTMART-HOTTOK")

    def envelope(self, headers: CIMultiDictProxy[str], body: bytes,
                 query: Mapping[str, str] | None = None) -> Envelope:
        """Decode; the event name gets the ``hotmart.`` prefix, lowercased."""
        env = decode(body)
        created = env.doc.get("creation_date")
        sent = iso(created / 1000) if isinstance(created, (int, float)) and created > 0 else None
        return Envelope(env.external_id, event_name(env.event), env.sent_date or sent, env.doc)


def event_name(raw: str) -> str:
    """``PURCHASE_APPROVED`` -> ``hotmart.purchase_approved`` (already prefixed: kept)."""
    name = raw.strip().lower()
    return name if name.startswith(PREFIX) else PREFIX + name
