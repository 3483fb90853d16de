"""Console sessions live in the database: a logout on one replica ends the session on every
replica and after a restart; expiry holds the same way (issue 19, item 11)."""

from __future__ import annotations

from typing import Any

from console_helpers import console_sections, csrf_of, log_in

from service.keys import HOLDER
from service.ui import security


def _cookie(client: Any) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/ui/"))[security.COOKIE].value


async def _opens(client: Any, cookie: str) -> bool:
    """Whether ``cookie`` opens the Painel on ``client``'s app."""
    resp = await client.get("/ui/", cookies={security.COOKIE: cookie}, allow_redirects=False)
    return resp.status == 200


async def test_logout_on_one_replica_ends_the_session_on_the_other(settings_for, start):
    """Two app instances on one database: the session works on both, and Sair on one ends it on both."""
    settings = settings_for(**console_sections())
    one, two = await start(settings), await start(settings)
    await log_in(one)
    cookie = _cookie(one)
    assert await _opens(two, cookie)
    await one.post("/ui/sair", data={"csrf": await csrf_of(one)})
    assert not await _opens(one, cookie) and not await _opens(two, cookie)


async def test_logout_holds_after_a_restart(settings_for, start):
    """A logged-out cookie stays refused by a new process on the same database."""
    settings = settings_for(**console_sections())
    first = await start(settings)
    await log_in(first)
    cookie = _cookie(first)
    await first.post("/ui/sair", data={"csrf": await csrf_of(first)})
    await first.close()
    restarted = await start(settings)
    assert not await _opens(restarted, cookie)


async def test_a_signed_cookie_without_a_stored_session_is_refused(settings_for, start):
    """A correctly signed cookie the database never recorded (or has forgotten) opens nothing."""
    client = await start(settings_for(**console_sections()))
    server = client.server.app[HOLDER].settings.config.server
    assert not await _opens(client, security.new_cookie(server, security.now()))
