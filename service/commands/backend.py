"""Where operator commands act: the database itself (``Local``) or a running Ponte's admin
API (``Remote``, with ``--url`` and ``PONTE_ADMIN_TOKEN``, like ``amtool``). Both answer
with the admin API's JSON shapes (``Local`` turns the store's records into them with
``msgspec.to_builtins``), so the commands print either the same way."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import msgspec

from service.commands.opsconfig import CliError, OpsConfig, existing_database, service_running
from service.errors import BadRequest, Conflict, NotFound
from service.operate import operations as ops
from service.store.open import open_store
from service.store.protocol import Store

TOKEN_ENV = "PONTE_ADMIN_TOKEN"


class Backend(Protocol):
    """The operator verbs, answering the admin API's JSON (lists: ``{"items", "next"}``).

    Each raises ``operations.NotFound``/``BadRequest``/``Conflict`` as the API answers
    404/400/409, and ``CliError`` for what stops it from asking (no database, no token)."""

    async def list_events(self, params: dict[str, Any]) -> dict[str, Any]: ...
    async def get_event(self, event_id: int) -> dict[str, Any]: ...
    async def list_deliveries(self, params: dict[str, Any]) -> dict[str, Any]: ...
    async def get_delivery(self, delivery_id: int) -> dict[str, Any]: ...
    async def replay_event(self, event_id: int, sinks: list[str] | None) -> dict[str, Any]: ...
    async def bulk_replay(self, params: dict[str, Any]) -> dict[str, Any]: ...
    async def retry(self, delivery_id: int) -> dict[str, Any]: ...
    async def sinks(self) -> dict[str, Any]: ...
    async def set_sink(self, name: str, enabled: bool) -> dict[str, Any]: ...
    async def purge(self, params: dict[str, Any]) -> dict[str, Any]: ...


class Local:
    """The verbs on the database file (works beside a running service)."""

    def __init__(self, store: Store, cfg: OpsConfig, database: str) -> None:
        self.store, self.cfg, self.database = store, cfg, database

    async def list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        limit, cursor = ops.page_args(params)
        page = await self.store.list_events(ops.make_filter(params), limit, cursor)
        return {"items": msgspec.to_builtins(page.items), "next": page.next}

    async def get_event(self, event_id: int) -> dict[str, Any]:
        return _found(await self.store.get_event(event_id), f"no event {event_id}")

    async def list_deliveries(self, params: dict[str, Any]) -> dict[str, Any]:
        limit, cursor = ops.page_args(params)
        page = await self.store.list_deliveries(ops.make_filter(params), limit, cursor)
        return {"items": msgspec.to_builtins(page.items), "next": page.next}

    async def get_delivery(self, delivery_id: int) -> dict[str, Any]:
        return _found(await self.store.get_delivery(delivery_id), f"no delivery {delivery_id}")

    async def replay_event(self, event_id: int, sinks: list[str] | None) -> dict[str, Any]:
        return (await ops.replay_event(self.store, self.cfg.sinks, event_id, sinks)).as_dict()

    async def bulk_replay(self, params: dict[str, Any]) -> dict[str, Any]:
        return (await ops.bulk_replay(self.store, self.cfg.sinks, params)).as_dict()

    async def retry(self, delivery_id: int) -> dict[str, Any]:
        return (await ops.retry_delivery(self.store, self.cfg.sinks, delivery_id)).as_dict()

    async def sinks(self) -> dict[str, Any]:
        """Sinks as written in the config; breaker and in-flight are known only to the service."""
        states, backlog = await self.store.sink_states(), await self.store.backlog()
        waiting = {sink: count for sink, count, _ in backlog}
        rows = []
        for name, raw in self.cfg.sinks.items():
            disabled, reason = states.get(name, (False, None))
            off = raw.get("enabled") is False
            rows.append(
                {
                    "name": name,
                    "type": raw.get("type"),
                    "enabled": not (disabled or off),
                    "disabled_reason": reason
                    if disabled
                    else ("enabled: false in the config" if off else None),
                    "breaker": None,
                    "breaker_reopens_at": None,
                    "in_flight": None,
                    "backlog": waiting.get(name, 0),
                }
            )
        return {"items": rows, "next": None}

    async def set_sink(self, name: str, enabled: bool) -> dict[str, Any]:
        """Store the sink's state; a running service applies it at its next reload."""
        if name not in self.cfg.sinks:
            raise NotFound(f"no sink {name!r} in {self.cfg.path}")
        reason = None if enabled else "disabled by an operator"
        changed = await self.store.set_sink_disabled(name, not enabled, reason)
        note = (
            (
                "a running Ponte holds this database: it applies this at its next reload "
                "(kill -HUP, POST /api/reload); with --url it applies at once"
            )
            if service_running(self.database)
            else None
        )
        return {"name": name, "enabled": enabled, "deliveries_changed": changed, "note": note}

    async def purge(self, params: dict[str, Any]) -> dict[str, Any]:
        return await ops.purge(self.store, params, self.cfg.retention_days)


class Remote:
    """The verbs through a running Ponte's admin API."""

    def __init__(self, url: str, token: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http = url.rstrip("/"), http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call("GET", "/api/events", query=params)

    async def get_event(self, event_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/api/events/{event_id}")

    async def list_deliveries(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call("GET", "/api/deliveries", query=params)

    async def get_delivery(self, delivery_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/api/deliveries/{delivery_id}")

    async def replay_event(self, event_id: int, sinks: list[str] | None) -> dict[str, Any]:
        body = {} if sinks is None else {"sinks": sinks}
        return await self._call("POST", f"/api/events/{event_id}/replay", body=body)

    async def bulk_replay(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/api/replay", body=params)

    async def retry(self, delivery_id: int) -> dict[str, Any]:
        return await self._call("POST", f"/api/deliveries/{delivery_id}/retry")

    async def sinks(self) -> dict[str, Any]:
        return await self._call("GET", "/api/sinks")

    async def set_sink(self, name: str, enabled: bool) -> dict[str, Any]:
        action = "enable" if enabled else "disable"
        return await self._call("POST", f"/api/sinks/{quote(name, safe='')}/{action}")

    async def purge(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/api/purge", body=params)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        args = {k: str(v) for k, v in (query or {}).items() if v is not None}
        headers = self.headers if body is None else self.headers | {"Content-Type": "application/json"}
        try:
            async with self.http.request(
                method,
                self.url + path,
                params=args,
                headers=headers,
                data=None if body is None else msgspec.json.encode(body),
            ) as resp:
                status, raw = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise CliError(f"cannot reach {self.url}: {exc or type(exc).__name__}") from None
        data = _decode(raw)
        if status < 300 and isinstance(data, dict):
            return data
        raise _failure(status, data, raw)


def _decode(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


def _failure(status: int, data: Any, raw: bytes) -> Exception:
    message = (
        str(data.get("error") or data)
        if isinstance(data, dict)
        else raw.decode("utf-8", "replace").strip()[:200] or f"HTTP {status}"
    )
    if status in (401, 403):
        return CliError(
            f"the admin API refused the token (HTTP {status}): {TOKEN_ENV} must hold the "
            "service's server.admin_token"
        )
    kinds: dict[int, type[Exception]] = {400: BadRequest, 404: NotFound, 409: Conflict}
    if status in kinds:
        return kinds[status](message)
    return CliError(f"the admin API answered HTTP {status}: {message}")


def _found(record: msgspec.Struct | None, message: str) -> dict[str, Any]:
    """The record as the admin API's JSON would decode (the printers see one shape), or 404."""
    if record is None:
        raise NotFound(message)
    data: dict[str, Any] = msgspec.to_builtins(record)
    return data


@asynccontextmanager
async def remote(url: str, timeout: float) -> AsyncIterator[Remote]:
    """A Remote for ``url`` with the token from ``PONTE_ADMIN_TOKEN``."""
    if not url.lower().startswith(("http://", "https://")):
        raise CliError(f"--url {url!r} must start with http:// or https:// (e.g. http://127.0.0.1:8080)")
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise CliError(
            f"--url needs the admin token: set {TOKEN_ENV} to the service's server.admin_token"
        )
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
        yield Remote(url, token, http)


@asynccontextmanager
async def local(cfg: OpsConfig) -> AsyncIterator[Local]:
    """A Local on the config's database, which must already exist."""
    database = existing_database(cfg)
    store = open_store(cfg.storage.url)
    await store.open()
    try:
        yield Local(store, cfg, database)
    finally:
        await store.close()
