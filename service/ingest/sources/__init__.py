"""Sources: one module per source type, each turning a request into a verified Envelope.

A source answers two questions about a request: is it authentic (``verify``), and what
is it (``envelope``). Adding a source type: a config Struct in ``service.config``, a
module here, and one ``case`` line in ``build_source``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, assert_never

from multidict import CIMultiDictProxy

from service.config.schema import (
    EduzzSourceConfig,
    HmacSourceConfig,
    HotmartSourceConfig,
    KiwifySourceConfig,
    SourceConfig,
    TokenSourceConfig,
)
from service.ingest.envelope import Envelope
from service.ingest.sources.eduzz import EduzzVerifier
from service.ingest.sources.hmac import HmacVerifier
from service.ingest.sources.hotmart import HotmartVerifier
from service.ingest.sources.kiwify import KiwifyVerifier
from service.ingest.sources.token import TokenVerifier


class Source(Protocol):
    """A configured source: verifies the signature, then decodes the envelope."""

    name: str
    kind: str

    def verify(self, headers: CIMultiDictProxy[str], body: bytes,
               query: Mapping[str, str] | None = None) -> None:
        """Raise SignatureError unless the request carries a configured secret (or its signature)."""
        ...

    def envelope(self, headers: CIMultiDictProxy[str], body: bytes,
                 query: Mapping[str, str] | None = None) -> Envelope:
        """Decode the body; raise EnvelopeError when it is not a JSON envelope."""
        ...


def build_source(name: str, cfg: SourceConfig) -> Source:
    """The Source for one ``sources:`` entry."""
    match cfg:
        case EduzzSourceConfig():
            return EduzzVerifier(name, cfg)
        case HmacSourceConfig():
            return HmacVerifier(name, cfg)
        case HotmartSourceConfig():
            return HotmartVerifier(name, cfg)
        case KiwifySourceConfig():
            return KiwifyVerifier(name, cfg)
        case TokenSourceConfig():
            return TokenVerifier(name, cfg)
        case _:
            assert_never(cfg)
