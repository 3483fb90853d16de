"""Admin API HTTP details: RFC 6750 challenges, one error shape, strict ids and cursors."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from conftest import base_config, fixture_body, post_signed
from service.config.settings import load_settings

TOKEN = "admin-token-123"


@pytest.fixture
async def api(settings_for, start):
    """The real app with the admin API on and no worker."""
    return await start(settings_for(server={"admin_token": TOKEN}))


async def _error(resp: Any) -> str:
    """The ``error`` text of an admin error body (the one shape every error has)."""
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert isinstance(body, dict) and isinstance(body["error"], str) and body["error"]
    return body["error"]


async def test_missing_token_is_401_with_a_bearer_challenge(api):
    """No credentials (or another scheme): 401 and ``WWW-Authenticate: Bearer``."""
    for headers in ({}, {"Authorization": "Basic eA=="}, {"Authorization": "Bearer "}):
        resp = await api.get("/api/events", headers=headers)
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"] == "Bearer"
        await _error(resp)


async def test_wrong_token_is_401_invalid_token(api):
    """A wrong token: 401 with ``error="invalid_token"`` (RFC 6750 §3.1), not 403."""
    resp = await api.get("/api/events", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert "nope" not in await _error(resp)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
async def test_bearer_scheme_is_case_insensitive(api, scheme):
    """RFC 7235: the auth scheme is case-insensitive."""
    resp = await api.get("/api/events", headers={"Authorization": f"{scheme} {TOKEN}"})
    assert resp.status == 200


async def test_refusals_are_logged_as_missing_or_mismatch_never_the_value(api, capsys, monkeypatch):
    """The 401 log line names the reason; the token sent is never in it."""
    import structlog

    from service import logs
    from service.operate import api as admin_api

    logs.configure(json=True)
    # a logger first used under another test's configuration stays cached: take a fresh one
    monkeypatch.setattr(admin_api, "log", structlog.get_logger("ponte.api"))
    await api.get("/api/events")
    await api.get("/api/events", headers={"Authorization": "Bearer s3cr3t-guess"})
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "admin_auth_refused" in line]
    assert len(lines) == 2
    assert '"reason":"missing"' in lines[0] and '"reason":"mismatch"' in lines[1]
    assert "s3cr3t-guess" not in err


@pytest.mark.parametrize("bad", ["١٢", "+1", " 1", "1 ", "²", "1e3", "-1", "0x1", "١"])
async def test_ids_that_are_not_ascii_digits_are_400(api, bad):
    """Path ids must be ASCII digits: anything else is a 400 with the one error shape."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for method, path in (("GET", "/api/events/{}"), ("GET", "/api/deliveries/{}"),
                         ("POST", "/api/events/{}/replay"), ("POST", "/api/deliveries/{}/retry")):
        resp = await api.request(method, path.format(bad), headers=auth)
        assert resp.status == 400, (method, path, bad)
        await _error(resp)


@pytest.mark.parametrize("bad", ["١٢", "+1", " 1", "²", "1.0", "99999999999999999999"])
async def test_cursors_and_limits_that_are_not_ascii_digits_are_400(api, bad):
    """A bad cursor or limit is a 400, never a 500 (``'²'.isdigit()`` is True in Python)."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    await post_signed(api, fixture_body("myeduzz.invoice_paid"))
    for path in ("/api/events", "/api/deliveries"):
        for key in ("cursor", "limit"):
            resp = await api.get(path, params={key: bad}, headers=auth)
            assert resp.status == 400, (path, key, bad)
            await _error(resp)


async def test_unknown_paths_and_methods_have_the_same_error_shape(api):
    """aiohttp's own 404 and 405 under /api/ answer JSON like every other admin error."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    resp = await api.get("/api/nothing-here", headers=auth)
    assert resp.status == 404
    await _error(resp)
    resp = await api.delete("/api/events", headers=auth)
    assert resp.status == 405 and "GET" in resp.headers["Allow"]
    await _error(resp)


async def test_an_unexpected_failure_is_a_500_in_the_same_shape(api):
    """A bug behind /api/ answers 500 ``{"error": ...}`` without internals (the log has them)."""
    from service.keys import STORE

    async def broken(*args: Any) -> Any:
        raise RuntimeError("internal detail /srv/secret/path")

    api.app[STORE].list_events = broken  # Ponte's own seam
    resp = await api.get("/api/events", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 500
    assert "secret" not in await _error(resp)


async def test_refused_reload_has_an_error_text(start, tmp_path):
    """A refused reload keeps its ``errors`` list and has the ``error`` text too."""
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(base_config(tmp_path, server={"admin_token": TOKEN})))
    client = await start(load_settings(str(path)))
    path.write_text("sources: {}\nroutes: 3\n")
    resp = await client.post("/api/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 422
    assert (await resp.json())["errors"] and await _error(resp)
