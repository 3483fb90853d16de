"""Every CLI command: name -> (function, help, argument adder). One module per group."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from service.commands import serve

Command = tuple[Callable[[argparse.Namespace], int], str, Callable[[argparse.ArgumentParser], Any]]


def _none(parser: argparse.ArgumentParser) -> None:
    """No arguments beyond --config."""


COMMANDS: dict[str, Command] = {
    "serve": (serve.serve, "run the service", serve.serve_args),
    "check": (serve.check, "validate the config; exit 1 with every error", _none),
}
