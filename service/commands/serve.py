"""``ponte serve`` and ``ponte check``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import socket
import sys

import structlog
from aiohttp import web

from service import logs
from service.app import create_app
from service.config.checks import config_warnings
from service.config.exposure import exposure_problems
from service.config.load import resolve_path
from service.config.settings import Settings, load_settings
from service.errors import ConfigError, StorageCorrupt, StorageUnavailable
from service.keys import HOLDER
from service.operate.reload import reload_from_file


def load_or_report(args: argparse.Namespace) -> Settings | None:
    """Load the config named by ``--config``; print every error and return None if invalid."""
    path = resolve_path(args.config)
    try:
        return load_settings(path)
    except ConfigError as exc:
        print(f"{path}: {len(exc.errors)} error(s)", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return None


def check_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")


def check(args: argparse.Namespace) -> int:
    """Validate the config fully (structure, references, routes, templates)."""
    settings = load_or_report(args)
    if settings is None:
        return 1
    c = settings.config
    errors, exposure = exposure_problems(c, c.server.host)
    warnings = [*config_warnings(c), *exposure]
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    if _refused(c.path, errors):
        return 1
    if warnings and getattr(args, "strict", False):
        print(f"{c.path}: {len(warnings)} warning(s), refused by --strict", file=sys.stderr)
        return 1
    print(f"{c.path}: ok ({len(c.sources)} sources, {len(c.sinks)} sinks, {len(c.routes)} routes)")
    return 0


def _refused(path: str, errors: list[str]) -> bool:
    """Print the errors that forbid serving this config (see ``service.exposure``)."""
    if errors:
        print(f"{path}: {len(errors)} error(s)", file=sys.stderr)
        for line in errors:
            print(f"  {line}", file=sys.stderr)
    return bool(errors)


def serve_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="override server.host")
    parser.add_argument("--port", type=int, help="override server.port")
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"],
                        help="the least important log lines written (default info)")
    parser.add_argument("--log-format", choices=["json", "console"], help="default: json unless on a terminal")


def serve(args: argparse.Namespace) -> int:
    """Run the service until SIGTERM/SIGINT; SIGHUP reloads the config."""
    logs.configure(level=args.log_level, json=None if args.log_format is None else args.log_format == "json")
    settings = load_or_report(args)
    if settings is None:
        return 1
    server = settings.config.server
    host, port = args.host or server.host, args.port or server.port
    refused, exposure_warnings = exposure_problems(settings.config, host)
    if _refused(settings.config.path, refused):
        return 1
    app = create_app(settings)
    app[HOLDER].listen_host = host
    log = structlog.get_logger("ponte")

    async def on_startup(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload_from_file(app)))
        webhooks = [f"http://{host}:{port}/webhooks/{name}" for name in settings.config.sources]
        gc.collect()
        gc.freeze()  # start-up objects live forever: keep full collections short (no 50 ms pauses)
        for line in [*config_warnings(settings.config), *exposure_warnings]:
            log.warning("config_warning", problem=line)
        log.info("ponte_started", config=settings.config.path, webhooks=webhooks,
                 sinks=list(settings.config.sinks), routes=len(settings.config.routes),
                 admin_api=bool(server.admin_token))

    async def on_shutdown(app: web.Application) -> None:
        log.info("ponte_stopping")

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    try:
        sock = _listen(host, port)  # before storage opens: a busy port changes nothing
    except OSError as exc:
        print(f"ponte: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        web.run_app(app, sock=sock,
                    print=None, access_log=None, shutdown_timeout=settings.config.delivery.shutdown_grace,
                    keepalive_timeout=server.read_timeout)
    except (StorageUnavailable, StorageCorrupt) as exc:
        structlog.get_logger("ponte").error("storage_failed", error=str(exc))
        print(f"ponte: {exc}", file=sys.stderr)
        return 1
    except PermissionError as exc:  # a file Ponte needs is not its to use: say which, no traceback
        structlog.get_logger("ponte").error("start_failed", error=exc.strerror, file=exc.filename)
        print(f"ponte: cannot use {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a start that fails exits 1, never hangs
        structlog.get_logger("ponte").error("start_failed", error=type(exc).__name__, exc_info=exc)
        print(f"ponte: could not start ({type(exc).__name__}); see the log above", file=sys.stderr)
        return 1
    finally:
        sock.close()  # run_app leaves it open when start-up fails
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket for ``host:port`` (IPv4 or IPv6)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock
