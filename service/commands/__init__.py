"""Every CLI command: name -> (function, help, argument adder). One module per group."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from service.commands import ops, report, routes, serve, simulate, storage

Command = tuple[Callable[[argparse.Namespace], int], str, Callable[[argparse.ArgumentParser], Any]]


def _none(parser: argparse.ArgumentParser) -> None:
    """No arguments beyond --config."""


COMMANDS: dict[str, Command] = {
    "serve": (serve.serve, "run the service", serve.serve_args),
    "check": (serve.check, "validate the config; exit 1 with every error", serve.check_args),
    "routes": (routes.routes_test, "routes test FILE…: show (and with --expect, assert) routing", routes.routes_args),
    "preview": (routes.preview, "print what a sink would receive for an event", routes.preview_args),
    "simulate": (simulate.simulate, "send a signed example Eduzz event to a URL", simulate.simulate_args),
    "events": (ops.events, "list stored events, or show one", ops.events_args),
    "deliveries": (ops.deliveries, "list deliveries, or show one with its attempts", ops.deliveries_args),
    "replay": (ops.replay, "deliver an event (or every delivery matching filters) again", ops.replay_args),
    "retry": (ops.retry, "try one delivery again now", ops.retry_args),
    "purge": (ops.purge, "delete events older than the retention (or --older-than)",
              ops.purge_args),
    "sinks": (ops.sinks, "list sinks (state, backlog, breaker), or: sinks enable|disable NAME",
              ops.sinks_args),
    "report": (report.report, "render (or --send) a scheduled summary for a period", report.report_args),
    "migrate": (storage.migrate, "create or upgrade the database schema", storage.migrate_args),
    "copy": (storage.copy, "copy a SQLite installation into PostgreSQL (ids kept)", storage.copy_args),
}
