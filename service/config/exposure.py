"""Placeholder secrets: refused on a public address, a warning on loopback.

Every shipped config falls back to ``dev-secret-change-me`` so the quick start needs no
credentials. Anyone can read that value, so anyone could sign webhooks with it: on
127.0.0.1 that is a try-out (a warning), on any other address it is an open door (an
error, ``serve`` refuses to start). The admin token and the console password are
credentials anyone may try from outside: off loopback they must also be at least
``MIN_CREDENTIAL`` characters (a throttle keeps a guessing flood visible; length keeps it
hopeless). Placeholder sink values (``change-me``,
``example.com`` URLs) are warnings: deliveries to them would fail, nothing is exposed.
Messages name the config path, never the value.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import msgspec

from service.config.schema import Config

MARKERS = ("change-me", "changeme", "change_me", "placeholder", "your-secret", "replace-me")
WELL_KNOWN = frozenset({"secret", "password", "changeme", "test", "test-secret", "dev-secret",
                        "admin"})
_EXAMPLE_HOSTS = ("example.com", "example.org", "example.net")
MIN_CREDENTIAL = 24


def is_placeholder(value: str) -> bool:
    """True for a value anyone could guess: a known default or one marked ``change-me``."""
    lowered = value.strip().lower()
    return lowered in WELL_KNOWN or any(marker in lowered for marker in MARKERS)


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def exposure_problems(config: Config, host: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for serving ``config`` on ``host``."""
    errors: list[str] = []
    warnings = list(_sink_placeholders(config))
    public = not is_loopback(host)
    for where, what in _guessable_secrets(config):
        if public:
            errors.append(f"{where}: a well-known placeholder {what} while listening on "
                          f"{host!r} (not loopback): anyone could use it. Set a real one, "
                          "or listen on 127.0.0.1")
        else:
            warnings.append(f"{where}: a well-known placeholder {what}: fine to try Ponte on "
                            "this machine, refused on any other address. Set a real one "
                            "before exposing Ponte")
    if public:
        errors += _short_credentials(config, host)
    return errors, warnings


def _short_credentials(config: Config, host: str) -> list[str]:
    server = config.server
    given = (("server.admin_token", server.admin_token), ("server.ui_password", server.ui_password))
    return [f"{where}: shorter than {MIN_CREDENTIAL} characters while listening on {host!r} "
            "(not loopback): it could be guessed. Use a long random value "
            "(openssl rand -base64 24), or listen on 127.0.0.1"
            for where, value in given
            if value and not is_placeholder(value) and len(value) < MIN_CREDENTIAL]


_SOURCE_SECRETS = (("secrets", "secret"), ("hottok", "hottok"), ("token", "token"))


def _guessable_secrets(config: Config) -> list[tuple[str, str]]:
    found = [(path, what) for name, source in config.sources.items()
             for key, what in _SOURCE_SECRETS
             for path, value in _listed(getattr(source, key, None), f"sources.{name}.{key}")
             if value and is_placeholder(value)]  # fmt: skip
    token, password = config.server.admin_token, config.server.ui_password
    if token and is_placeholder(token):
        found.append(("server.admin_token", "admin token"))
    if password and is_placeholder(password):
        found.append(("server.ui_password", "console password"))
    return found


def _listed(value: Any, at: str) -> list[tuple[str, str]]:
    """A secret key's values with their paths: ``token`` (one) or ``token[0]`` … (a list)."""
    if isinstance(value, str):
        return [(at, value)]
    if isinstance(value, list):
        return [(f"{at}[{i}]", v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def _sink_placeholders(config: Config) -> list[str]:
    found = []
    for name, sink in config.sinks.items():
        for path, value in _strings(msgspec.to_builtins(sink, enc_hook=float), f"sinks.{name}"):
            if is_placeholder(value) or (path.endswith("url") and _example_url(value)):
                found.append(f"{path}: looks like a placeholder: deliveries will fail until "
                             "it is set")
    return found


def _strings(node: Any, at: str) -> list[tuple[str, str]]:
    if isinstance(node, str):
        return [(at, node)]
    if isinstance(node, dict):
        return [hit for key, value in node.items() for hit in _strings(value, f"{at}.{key}")]
    if isinstance(node, list):
        return [hit for i, value in enumerate(node) for hit in _strings(value, f"{at}[{i}]")]
    return []


def _example_url(value: str) -> bool:
    try:
        host = (urlsplit(value).hostname or "").lower()
    except ValueError:  # a malformed URL is the config check's to report
        return False
    return any(host == h or host.endswith("." + h) for h in _EXAMPLE_HOSTS)
