"""The generic ``type: token`` source: a shared token in a header, a query parameter or a body field.

For platforms that authenticate with a fixed token (Monetizze, Ticto, Guru, Braip, Perfect
Pay, Cakto; config examples in docs/platforms.md). Bodies may be JSON or form-encoded
(``a=1&venda[codigo]=2``: keys kept as written, so the path is ``venda[codigo]``). The
event name is ``prefix`` + the value at the ``event`` path; the identity for duplicates
is the value at the ``id`` path (else a hash of the body). No sale model yet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from multidict import CIMultiDictProxy

from service.config.schema import TokenSourceConfig
from service.errors import EnvelopeError, SignatureError
from service.ingest.envelope import Envelope, decode
from service.ingest.sources.hotmart import token_matches
from service.routing.conditions import MISSING, resolve


def parse_body(body: bytes) -> dict[str, Any]:
    """A JSON object, else a form-encoded body as a flat mapping (EnvelopeError: neither)."""
    if body.lstrip()[:1] in (b"{", b"["):
        return decode(body, event="").doc
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise EnvelopeError("expected a JSON object or a form-encoded body") from None
    return dict(pairs)


class TokenVerifier:
    """Compares the configured tokens with the request's, in constant time; fails closed."""

    kind = "token"

    def __init__(self, name: str, cfg: TokenSourceConfig) -> None:
        self.name = name
        self.cfg = cfg
        self.tokens = cfg.tokens
        self.where = (f"header {cfg.header}" if cfg.header else
                      f"query parameter {cfg.query}" if cfg.query else f"body field {cfg.field}")

    def verify(self, headers: CIMultiDictProxy[str], body: bytes,
               query: Mapping[str, str] | None = None) -> None:
        """Raise SignatureError unless the token where it is configured matches one."""
        given = self._given(headers, body, query or {})
        if not given or not self.tokens:
            raise SignatureError(f"missing token in {self.where} or no token configured",
                                 reason="missing")
        if not given.isascii() or not token_matches(self.tokens, given):
            raise SignatureError(f"wrong token in {self.where}")

    def _given(self, headers: CIMultiDictProxy[str], body: bytes, query: Mapping[str, str]) -> str:
        if self.cfg.header:
            return headers.get(self.cfg.header, "").strip()
        if self.cfg.query:
            return query.get(self.cfg.query, "").strip()
        try:
            value = resolve(parse_body(body), tuple(str(self.cfg.field).split(".")))
        except EnvelopeError:
            return ""
        return str(value).strip() if isinstance(value, (str, int)) else ""

    def envelope(self, headers: CIMultiDictProxy[str], body: bytes,
                 query: Mapping[str, str] | None = None) -> Envelope:
        """The body as a mapping; event and id read from their configured paths."""
        doc = parse_body(body)
        event = _scalar(doc, self.cfg.event)
        if event is None:
            raise EnvelopeError(f"no event name at {self.cfg.event!r} in the body")
        ident = _scalar(doc, self.cfg.id) if self.cfg.id else None
        ident = ident or "sha256:" + hashlib.sha256(body).hexdigest()
        return Envelope(ident, (self.cfg.prefix + event)[:200], None, doc)


def _scalar(doc: dict[str, Any], path: str | None) -> str | None:
    if not path:
        return None
    value = resolve(doc, tuple(path.split(".")))
    if value is MISSING or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value).strip() or None
