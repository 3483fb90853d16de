"""The console's guard: signed session cookies, CSRF tokens, login throttling, safe headers.

A session cookie is ``<expires>.<nonce>.<signature>``, signed with a key derived from the
admin token and ``ui_password``: changing either logs everyone out. The session itself is
a row in the database (``Store.start_session``, keyed by a hash of the nonce), so logging
out or expiring holds on every replica and after a restart; a signed cookie without its
row opens nothing. The CSRF token of a session is an HMAC of its nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from service.config.schema import ServerConfig
from service.operate import throttle

COOKIE = "ponte_console"
SESSION_SECONDS = 8 * 3600
MAX_FAILURES = 5  # wrong passwords per client …
FAILURE_WINDOW = 15 * 60  # … in this many seconds; then wrong ones get 429 (a right one still logs in)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in browser: its nonce (the session's identity) and when it expires."""

    nonce: str
    expires: int
    csrf: str


@dataclass(slots=True)
class Guard:
    """Per-process state: wrong logins per client, one-shot notices."""

    throttle: throttle.Throttle = field(
        default_factory=lambda: throttle.Throttle(MAX_FAILURES, FAILURE_WINDOW))
    notices: dict[str, tuple[str, str]] = field(default_factory=dict)


def _key(server: ServerConfig) -> bytes:
    material = f"ponte-console-v1\0{server.admin_token or ''}\0{server.ui_password or ''}"
    return hashlib.sha256(material.encode()).digest()


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def password_ok(server: ServerConfig, given: str) -> bool:
    """Whether ``given`` is the admin token or the console password (constant time)."""
    candidates = [c for c in (server.admin_token, server.ui_password) if c]
    given_b = given.encode("utf-8", "surrogateescape")
    checks = [hmac.compare_digest(given_b, c.encode()) for c in candidates]  # all, not short-circuit
    return any(checks) and bool(given)


def new_cookie(server: ServerConfig, now: float) -> str:
    """A fresh signed session cookie value."""
    payload = f"{int(now) + SESSION_SECONDS}.{secrets.token_urlsafe(18)}"
    return f"{payload}.{_sign(_key(server), payload)}"


def new_session(server: ServerConfig, now: float) -> tuple[str, Session]:
    """A fresh signed cookie value and the session it proves (to be recorded in the store)."""
    value = new_cookie(server, now)
    expires, nonce, _ = value.split(".")
    return value, Session(nonce, int(expires), _sign(_key(server), f"csrf:{nonce}")[:40])


def read_session(server: ServerConfig, value: str | None, now: float) -> Session | None:
    """The session a cookie value proves by its signature, or None (missing, forged or
    expired); whether it is still open is the database's to say (``session_key``)."""
    if not value or value.count(".") != 2:
        return None
    expires, nonce, signature = value.split(".")
    key = _key(server)
    if not hmac.compare_digest(signature, _sign(key, f"{expires}.{nonce}")):
        return None
    if not expires.isdigit() or int(expires) <= now:
        return None
    return Session(nonce, int(expires), _sign(key, f"csrf:{nonce}")[:40])


def session_key(session: Session) -> str:
    """The session's row key in the database: a hash of its nonce (the row alone proves nothing)."""
    return hashlib.sha256(f"ponte-session\0{session.nonce}".encode()).hexdigest()


def csrf_ok(session: Session, given: str | None) -> bool:
    """Whether a form's CSRF token belongs to this session."""
    return bool(given) and hmac.compare_digest(session.csrf, str(given))


def _trusted(request: web.Request, server: ServerConfig) -> bool:
    return throttle.trusted(request, server.trusted_proxies)


def is_https(request: web.Request, server: ServerConfig) -> bool:
    """HTTPS directly, or behind a trusted proxy that says so in X-Forwarded-Proto."""
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return _trusted(request, server) and forwarded == "https"


def client_of(request: web.Request, server: ServerConfig) -> str:
    """Who is logging in: the peer, or the address a trusted proxy forwarded for."""
    return throttle.client_of(request, server.trusted_proxies)


def set_cookie(response: web.StreamResponse, request: web.Request, server: ServerConfig,
               value: str) -> None:
    """Attach the session cookie: HttpOnly, SameSite=Strict, Secure under HTTPS, 8 h."""
    response.set_cookie(COOKIE, value, max_age=SESSION_SECONDS, path="/ui/", httponly=True,
                        samesite="Strict", secure=is_https(request, server))


def clear_cookie(response: web.StreamResponse) -> None:
    """Remove the session cookie from the browser."""
    response.del_cookie(COOKIE, path="/ui/")


def now() -> float:
    """The current unix time (one place, so tests can reason about expiry)."""
    return time.time()
