"""Hot reload: re-read the config, validate it fully, build its sinks, then swap it atomically.

Anything that fails before the swap (an invalid file, a sink that cannot be built, storage
unreadable) leaves the running config untouched: ``/api/reload`` answers 422.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.helpers import ChainMapProxy

from service.cluster import Coordinated
from service.config.exposure import exposure_problems
from service.config.schema import Config
from service.config.settings import load_settings
from service.delivery.worker import WORKER
from service.errors import ConfigError, StorageUnavailable
from service.keys import HOLDER, METRICS, STORE
from service.routing.followups import cancel_removed

log = structlog.get_logger("ponte.reload")


RESTART_ONLY = ("server.host", "server.port", "server.max_body_bytes", "storage.url")


async def reload_from_file(
    app: web.Application | ChainMapProxy, *, tell_others: bool = True
) -> list[str]:
    """Reload from the file the running config came from; return the errors ([] on success).

    With replicas on a shared database, the others are told to reload too (``tell_others``).
    """
    holder = app[HOLDER]
    path = holder.settings.config.path
    worker = app.get(WORKER)
    try:
        settings = load_settings(path)
        _check_exposure(settings.config, holder.listen_host)
        lanes = await worker.prepare(settings) if worker is not None else None
    except ConfigError as exc:
        log.error("config_reload_refused", path=path, errors=exc.errors)
        app[METRICS].reloads_refused.inc()
        return exc.errors
    except Exception as exc:  # noqa: BLE001 - anything that fails leaves the old config running
        errors = [f"{path}: the new config could not be applied ({type(exc).__name__})"]
        log.error("config_reload_refused", path=path, errors=errors, exc_info=exc)
        return errors
    pending = restart_needed(holder.settings.config, settings.config)
    if pending:
        log.warning("config_reload_needs_restart", settings=pending)
    # everything is built: swap last, so a refused reload never leaves half a config
    holder.swap(settings)
    if worker is not None and lanes is not None:
        worker.install(settings, lanes)
    log.info("config_reloaded", path=path, routes=len(settings.config.routes),
             sinks=len(settings.config.sinks))
    store = app[STORE]
    try:
        await cancel_removed(store, settings.config, "its route or target was removed by a reload")
    except StorageUnavailable as exc:  # the new config runs; the next reload or start cancels them
        log.error("followups_cancel_failed", error=str(exc))
    if tell_others and isinstance(store, Coordinated):
        await store.notify("reload")
    return []


def _check_exposure(config: Config, host: str | None) -> None:
    """Refuse, as ``serve`` would, a placeholder secret on the address being served."""
    if host is not None:
        refused, _ = exposure_problems(config, host)
        if refused:
            raise ConfigError(refused)


def restart_needed(old: Config, new: Config) -> list[str]:
    """The changed settings that only take effect after a restart."""
    def value(config: Config, dotted: str) -> object:
        section, key = dotted.split(".")
        return getattr(getattr(config, section), key)

    return [key for key in RESTART_ONLY if value(old, key) != value(new, key)]
