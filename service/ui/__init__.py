"""The web console under ``/ui/``: server-rendered pages over the operator verbs.

On whenever ``server.admin_token`` is set (checked per request, so a reload turns it
on or off); every ``/ui/`` path answers 404 otherwise. ``add_routes`` mounts it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import jinja2
import structlog
from aiohttp import web

from service.config.settings import Settings
from service.errors import BadRequest, Conflict, ConsoleBusy, NotFound, StorageUnavailable
from service.keys import HOLDER, STORE
from service.store.protocol import Store
from service.ui import i18n, security

HERE = Path(__file__).resolve().parent
GUARD = web.AppKey("console_guard", security.Guard)
SESSION = web.RequestKey("console_session", security.Session)  # found once by the guard
JINJA = web.AppKey("console_jinja", jinja2.Environment)
PUBLIC = frozenset({"/ui/login", "/ui/idioma", "/ui/static/console.css", "/ui/static/console.js"})
log = structlog.get_logger("ponte.console")


def add_routes(app: web.Application) -> None:
    """Mount the console on ``app`` at ``/ui/``."""
    from service.ui import auth, events, pages, rules

    sub = web.Application(middlewares=[_guard])
    sub[GUARD] = security.Guard()
    sub[JINJA] = _environment()
    for module in (auth, pages, events, rules):
        module.add_routes(sub)
    sub.router.add_static("/static/", HERE / "static", name="static")
    app.router.add_get("/ui", _to_slash)
    app.add_subapp("/ui/", sub)


async def _to_slash(request: web.Request) -> web.StreamResponse:
    if not request.app[HOLDER].settings.config.server.admin_token:
        raise web.HTTPNotFound()
    raise web.HTTPFound("/ui/")


def _environment() -> jinja2.Environment:
    # missing filter keys read as empty (Undefined), and everything is HTML-escaped
    return jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)


@web.middleware
async def _guard(request: web.Request, handler: Any) -> web.StreamResponse:
    """404 when off; login required except on public paths; CSRF on every POST; safe headers."""
    settings = request.config_dict[HOLDER].settings
    server = settings.config.server
    if not server.admin_token:
        raise web.HTTPNotFound(text="404: Not Found")
    session = await _open_session(request)
    if session is not None:
        request[SESSION] = session
    try:
        response = await _checked(request, handler, session)
    except web.HTTPException as exc:
        exc.headers.update(security.HEADERS)
        raise
    response.headers.update(security.HEADERS)
    return response


async def _checked(request: web.Request, handler: Any, session: security.Session | None) -> web.StreamResponse:
    if session is None and request.path not in PUBLIC:
        if request.headers.get("X-Requested-With") == "ponte":
            raise web.HTTPUnauthorized(text="login required")
        target = request.path_qs if request.method == "GET" else "/ui/"
        raise web.HTTPSeeOther(f"/ui/login?{_next_query(target)}")
    if request.method == "POST" and session is not None and request.path not in PUBLIC:
        form = await request.post()
        if not security.csrf_ok(session, cast(str | None, form.get("csrf"))):
            log.warning("console_csrf_refused", path=request.path)
            words = i18n.translator(i18n.choose(request))
            return web.Response(status=403, content_type="text/plain",
                                text=words("Sessão expirada ou formulário inválido. Recarregue a página."))
    try:
        response: web.StreamResponse = await handler(request)
    except (BadRequest, NotFound, Conflict, ConsoleBusy) as exc:  # the verbs' errors, as the API maps them
        words = i18n.translator(i18n.choose(request))
        return web.Response(status=exc.status, text=words.ponte(str(exc)), content_type="text/plain")
    return response


def _next_query(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})


async def _open_session(request: web.Request) -> security.Session | None:
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
