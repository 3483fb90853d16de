"""The web console under ``/ui/``: server-rendered pages over the operator verbs.

On whenever ``server.admin_token`` is set (checked per request, so a reload turns it
on or off); every ``/ui/`` path answers 404 otherwise. ``add_routes`` mounts it.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from service.errors import BadRequest, Conflict, ConsoleBusy, NotFound
from service.keys import HOLDER
from service.ui import auth, events, i18n, mask, pages, rules, scheduled, security
from service.ui.base import GUARD, HERE, JINJA, SESSION, log, open_session

PUBLIC = frozenset({"/ui/login", "/ui/idioma", "/ui/static/console.css", "/ui/static/console.js"})


def add_routes(app: web.Application) -> None:
    """Mount the console on ``app`` at ``/ui/``."""
    sub = web.Application(middlewares=[_guard])
    sub[GUARD] = security.Guard()
    sub[JINJA] = _environment()
    for module in (auth, pages, events, rules, scheduled):
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
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["personal"] = mask.shown  # a receiver's text: masked unless ``mostrar``
    return env


@web.middleware
async def _guard(request: web.Request, handler: Any) -> web.StreamResponse:
    """404 when off; login required except on public paths; CSRF on every POST; safe headers."""
    settings = request.config_dict[HOLDER].settings
    server = settings.config.server
    if not server.admin_token:
        raise web.HTTPNotFound(text="404: Not Found")
    session = await open_session(request)
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
    return urlencode({"next": target})
