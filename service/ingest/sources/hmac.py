"""The generic ``type: hmac`` source: any provider that signs the raw body in one header."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from multidict import CIMultiDictProxy

from service.config.schema import HmacSourceConfig
from service.errors import SignatureError
from service.ingest.envelope import Envelope, decode

_DIGESTS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "sha512": hashlib.sha512}


def sign(secret: str, body: bytes, *, algorithm: str = "sha256", encoding: str = "hex") -> str:
    """The signature of ``body`` with ``secret`` (UTF-8 key bytes), hex or base64."""
    digest = hmac.new(secret.encode(), body, _DIGESTS[algorithm]).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def matches_any(secrets: list[str], body: bytes, given: str, **how: str) -> bool:
    """Constant-time check of ``given`` against every secret (rotation); False with none."""
    found = False
    for secret in secrets:
        expected = sign(secret, body, **how)
        found |= hmac.compare_digest(expected.encode(), given.encode())
    return found


class HmacVerifier:
    """Verifies ``<header>: <prefix><hex|base64 HMAC>``; fails closed without secrets."""

    kind = "hmac"

    def __init__(self, name: str, cfg: HmacSourceConfig) -> None:
        self.name = name
        self.cfg = cfg

    def verify(self, headers: CIMultiDictProxy[str], body: bytes,
               query: Mapping[str, str] | None = None) -> None:
        """Raise SignatureError unless the header carries a valid signature."""
        given = headers.get(self.cfg.header, "").strip()
        if not given.startswith(self.cfg.prefix) or not self.cfg.secrets:
            raise SignatureError(f"missing or malformed {self.cfg.header} header", reason="missing")
        given = given[len(self.cfg.prefix) :]
        how = {"algorithm": self.cfg.algorithm, "encoding": self.cfg.encoding}
        if not given.isascii() or not matches_any(self.cfg.secrets, body, given, **how):
            raise SignatureError(f"wrong signature in {self.cfg.header}")

    def envelope(self, headers: CIMultiDictProxy[str], body: bytes,
                 query: Mapping[str, str] | None = None) -> Envelope:
        """Decode the body; the event name and id may come from configured headers."""
        event = headers.get(self.cfg.event_header) if self.cfg.event_header else None
        ext_id = headers.get(self.cfg.id_header) if self.cfg.id_header else None
        return decode(body, event=event, external_id=ext_id)
