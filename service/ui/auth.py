"""Logging in and out of the console, and the language switch."""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from service.operate.throttle import retry_after_header
from service.ui import i18n, security
from service.ui.base import GUARD, log, render, session_of, settings_of, store_of

LOGIN_COOKIE = "ponte_login"  # double-submit token of the login form (there is no session yet)


def add_routes(app: web.Application) -> None:
    """Register login, logout and the language switch."""
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/sair", logout)
    app.router.add_get("/idioma", language)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a console path only (never another site)."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


def _login_form(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(18)
    response = render(request, "login.html", status=status, error=error, form_token=token,
                      next=safe_next(request.query.get("next")))
    response.set_cookie(LOGIN_COOKIE, token, path="/ui/", httponly=True, samesite="Strict",
                        secure=security.is_https(request, settings_of(request).config.server))
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/login``: the form (or straight on, when already logged in)."""
    if session_of(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_form(request)


async def login(request: web.Request) -> web.StreamResponse:
    """``POST /ui/login``: one message for a wrong or missing password; throttled per client."""
    server = settings_of(request).config.server
    words = i18n.translator(i18n.choose(request))
    client, now = security.client_of(request, server), security.now()
    form = await request.post()
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    given_token = str(form.get("form_token", ""))
    if not cookie or not hmac.compare_digest(cookie, given_token):
        return _login_form(request, words("Sessão expirada ou formulário inválido. Recarregue a página."), 403)
    if not security.password_ok(server, str(form.get("password", ""))):
        return _wrong_password(request, client, now)
    log.info("console_logged_in", client=client)
    response = web.HTTPSeeOther(safe_next(str(form.get("next", ""))))
    value, session = security.new_session(server, now)
    await store_of(request).start_session(security.session_key(session), session.expires, now)
    security.set_cookie(response, request, server, value)
    response.del_cookie(LOGIN_COOKIE, path="/ui/")
    raise response


def _wrong_password(request: web.Request, client: str, now: float) -> web.Response:
    """401, or 429 with Retry-After past the throttle (a right password is never refused)."""
    words = i18n.translator(i18n.choose(request))
    throttle = request.config_dict[GUARD].throttle
    wait = throttle.retry_after(client, now)
    if wait:
        log.warning("console_login_throttled", client=client)
        response = _login_form(request, words("Muitas tentativas. Tente de novo em alguns minutos."), 429)
        response.headers.update(retry_after_header(wait))
        return response
    throttle.failed(client, now)
    log.warning("console_login_failed", client=client)
    return _login_form(request, words("Senha ou token incorretos."), 401)


async def logout(request: web.Request) -> web.StreamResponse:
    """``POST /ui/sair``: end the session (for every replica) and clear its cookie."""
    session = session_of(request)
    if session is not None:
        await store_of(request).end_session(security.session_key(session))
        log.info("console_logged_out")
    response = web.HTTPSeeOther("/ui/login")
    security.clear_cookie(response)
    raise response


async def language(request: web.Request) -> web.StreamResponse:
    """``GET /ui/idioma?lang=en&next=…``: remember the language in a cookie."""
    lang = request.query.get("lang", "pt")
    response = web.HTTPSeeOther(safe_next(request.query.get("next")))
    if lang in i18n.LANGS:
        response.set_cookie("lang", lang, path="/ui/", max_age=365 * 86400, samesite="Strict",
                            httponly=True)
    raise response

