"""Hot reload: re-read the config, validate it fully, swap it atomically, or keep the old one."""

from __future__ import annotations

import structlog
from aiohttp import web

from service.cluster import Coordinated
from service.config import Config
from service.errors import ConfigError
from service.keys import HOLDER, STORE, WORKER
from service.runtime import load_settings

log = structlog.get_logger("ponte.reload")


RESTART_ONLY = ("server.host", "server.port", "server.max_body_bytes", "storage.url")


async def reload_from_file(app: web.Application, *, tell_others: bool = True) -> list[str]:
    """Reload from the file the running config came from; return the errors ([] on success).

    With replicas on a shared database, the others are told to reload too (``tell_others``).
    """
    holder = app[HOLDER]
    path = holder.settings.config.path
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        log.error("config_reload_refused", path=path, errors=exc.errors)
        return exc.errors
    pending = restart_needed(holder.settings.config, settings.config)
    if pending:
        log.warning("config_reload_needs_restart", settings=pending)
    holder.swap(settings)
    worker = app.get(WORKER)
    if worker is not None:
        await worker.apply(settings)
    log.info("config_reloaded", path=path, routes=len(settings.config.routes),
             sinks=len(settings.config.sinks))
    store = app[STORE]
    if tell_others and isinstance(store, Coordinated):
        await store.notify("reload")
    return []


def restart_needed(old: Config, new: Config) -> list[str]:
    """The changed settings that only take effect after a restart."""
    def value(config: Config, dotted: str) -> object:
        section, key = dotted.split(".")
        return getattr(getattr(config, section), key)

    return [key for key in RESTART_ONLY if value(old, key) != value(new, key)]
