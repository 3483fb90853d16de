"""What every console page handler needs: the request's session, settings, store and zone,
and ``render`` (a page with the words, CSRF token and notice). ``service.ui`` mounts the
pages; this module sits below them so that each page module can import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import structlog
from aiohttp import web

from service.config.settings import Settings
from service.errors import StorageUnavailable
from service.keys import HOLDER, STORE
from service.store.protocol import Store
from service.ui import i18n, security

HERE = Path(__file__).resolve().parent
GUARD = web.AppKey("console_guard", security.Guard)
JINJA = web.AppKey("console_jinja", jinja2.Environment)
SESSION = web.RequestKey("console_session", security.Session)  # found once by the guard
log = structlog.get_logger("ponte.console")


async def open_session(request: web.Request) -> security.Session | None:
    """The session the cookie proves and the database still holds open (one indexed read,
    only for a correctly signed cookie); None when storage does not answer."""
    server = request.config_dict[HOLDER].settings.config.server
    now = security.now()
    session = security.read_session(server, request.cookies.get(security.COOKIE), now)
    if session is None:
        return None
    try:
        is_open = await store_of(request).session_open(security.session_key(session), now)
    except StorageUnavailable:
        log.warning("console_session_unchecked", reason="storage unavailable")
        return None
    return session if is_open else None


def session_of(request: web.Request) -> security.Session | None:
    """The request's session, as the console's guard found it (None: not logged in)."""
    return request.get(SESSION)


def settings_of(request: web.Request) -> Settings:
    """The current Settings (read once per request)."""
    return request.config_dict[HOLDER].settings


def store_of(request: web.Request) -> Store:
    """The Store (the admin API's and CLI's verbs, and the console's queries)."""
    return request.config_dict[STORE]


def zone_of(settings: Settings) -> ZoneInfo:
    """The configured time zone (``messages.timezone``)."""
    return ZoneInfo(settings.config.messages.timezone)


def notice(request: web.Request, kind: str, text: str) -> None:
    """Leave a one-shot message for this session's next page."""
    session = session_of(request)
    if session is not None:
        guard = request.config_dict[GUARD]
        if len(guard.notices) > 1000:
            guard.notices.clear()
        guard.notices[session.nonce] = (kind, text)


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """Render a page with what every page needs: words, language, CSRF token, notice, zone."""
    lang = i18n.choose(request)
    words = i18n.translator(lang)
    session = session_of(request)
    settings = settings_of(request)
    zone = zone_of(settings)
    popped = request.config_dict[GUARD].notices.pop(session.nonce, None) if session else None
    page = request.config_dict[JINJA].get_template(name).render(
        t=words, lang=lang, csrf=session.csrf if session else "", notice=popped,
        when=lambda v, fmt="%d/%m/%Y %H:%M:%S": i18n.local_time(v, zone, fmt),
        zone=settings.config.messages.timezone, path=request.path, logged_in=session is not None,
        **context)
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")
