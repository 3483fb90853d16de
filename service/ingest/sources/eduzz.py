"""The ``type: eduzz`` source (FACTS §2): ``x-signature`` = hex HMAC-SHA256(secret, raw body)."""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDictProxy

from service.config.schema import EduzzSourceConfig
from service.eduzz.catalogue import normalize_event_name
from service.errors import SignatureError
from service.ingest.envelope import Envelope, decode
from service.ingest.sources.hmac import matches_any

HEADER = "x-signature"


class EduzzVerifier:
    """Eduzz's signature, with several secrets for rotation; fails closed without one."""

    kind = "eduzz"

    def __init__(self, name: str, cfg: EduzzSourceConfig) -> None:
        self.name = name
        self.secrets = [s for s in cfg.secrets if s]

    def verify(self, headers: CIMultiDictProxy[str], body: bytes,
               query: Mapping[str, str] | None = None) -> None:
        """Raise SignatureError unless ``x-signature`` matches one configured secret."""
        given = headers.get(HEADER, "").strip().lower()
        if not given:
            raise SignatureError("missing x-signature header", reason="missing")
        if not self.secrets:
            raise SignatureError("no secret is configured for this source", reason="missing")
        if not given.isascii() or not matches_any(self.secrets, body, given):
            raise SignatureError("wrong x-signature")

    def envelope(self, headers: CIMultiDictProxy[str], body: bytes,
                 query: Mapping[str, str] | None = None) -> Envelope:
        """Decode leniently and restore the app prefix Eduzz sometimes leaves out."""
        env = decode(body)
        name = normalize_event_name(env.event)
        if name == env.event:
            return env
        return Envelope(env.external_id, name, env.sent_date, env.doc)
