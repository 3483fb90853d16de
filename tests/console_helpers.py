"""Helpers for the console tests: a logged-in client and the CSRF token of a page."""

from __future__ import annotations

import re
from typing import Any

TOKEN = "admin-token-123"
PASSWORD = "senha-do-console"


def console_sections(**extra: Any) -> dict[str, Any]:
    """Config sections turning the console on (admin token + console password)."""
    server = {"admin_token": TOKEN, "ui_password": PASSWORD, **extra}
    return {"server": server}


def form_token(html: str, name: str = "csrf") -> str:
    """The value of the hidden input ``name`` in a page."""
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} field in the page"
    return match.group(1)


async def log_in(client: Any, password: str = TOKEN) -> Any:
    """Log in through the form, as a browser does; returns the response after redirects."""
    page = await client.get("/ui/login")
    token = form_token(await page.text(), "form_token")
    return await client.post("/ui/login", data={"password": password, "form_token": token,
                                                 "next": "/ui/"})


async def csrf_of(client: Any, path: str = "/ui/") -> str:
    """The CSRF token shown on a page of a logged-in session."""
    return form_token(await (await client.get(path)).text())
