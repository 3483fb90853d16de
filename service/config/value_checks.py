"""Values that parse but cannot work, refused at load with their path (never the value).

- ``storage.lease`` under ``MIN_LEASE``: claims are renewed every third of a lease; a
  lease shorter than a renewal round trip hands a delivery still being sent to another
  replica, which sends it again.
- a timeout of ``0s``: no request can finish in no time.
- a control character (a line break) in a credential or URL: it would split a header.
- a URL that does not parse (``http://[::1``) or has no host.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import msgspec

from service.config.schema import Config

MIN_LEASE = 5.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CREDENTIAL_KEYS = frozenset({"token", "admin_token", "ui_password", "password", "username",
                              "signing_secret", "secrets", "headers"})  # fmt: skip
_URL_KEYS = frozenset({"url", "webhook_url", "api_url"})


def check_values(config: Config, errors: list[str]) -> None:
    """Append ``path: message`` for each value above."""
    _durations(config, errors)
    sections = {"server": config.server, "sources": config.sources, "sinks": config.sinks}
    for path, key, value in _strings(msgspec.to_builtins(sections, enc_hook=float), "", ""):
        if key in _CREDENTIAL_KEYS and _CONTROL.search(value):
            errors.append(f"{path}: contains a control character (a line break?)")
        elif key in _URL_KEYS and path.startswith("sinks.") and not _valid_url(value):
            errors.append(f"{path}: not a valid URL (expected http(s)://host/…)")


def _durations(config: Config, errors: list[str]) -> None:
    if config.storage.lease < MIN_LEASE:
        errors.append(f"storage.lease: must be at least {MIN_LEASE:g}s: claims are renewed "
                      "every third of it, and a shorter lease lets another replica send a "
                      "delivery again")
    timeouts = [("delivery.timeout", config.delivery.timeout),
                ("server.read_timeout", config.server.read_timeout),
                *((f"sinks.{n}.timeout", s.timeout) for n, s in config.sinks.items())]
    errors += [f"{at}: must be more than 0s" for at, value in timeouts
               if value is not None and value <= 0]


def _strings(node: Any, at: str, key: str) -> list[tuple[str, str, str]]:
    """(path, the key it sits under, value) of every string; list items keep their key."""
    if isinstance(node, str):
        return [(at, key, node)]
    if isinstance(node, dict):
        inner = key if key == "headers" else None
        return [hit for k, v in node.items()
                for hit in _strings(v, f"{at}.{k}" if at else str(k), inner or str(k))]
    if isinstance(node, list):
        return [hit for i, v in enumerate(node) for hit in _strings(v, f"{at}[{i}]", key)]
    return []


def _valid_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
    except ValueError:
        return False
