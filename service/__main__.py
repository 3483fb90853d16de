"""The ``ponte`` command line: parses arguments and calls one function per command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from service import commands, logs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ponte", description="Webhook router for Eduzz and friends.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (func, help_text, add_args) in commands.COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--config", metavar="PATH", help="config file (default: $PONTE_CONFIG or config/ponte.yaml)")
        add_args(cmd)
        cmd.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its return value is the exit status."""
    args = _parser().parse_args(argv)
    if args.command != "serve":
        logs.configure(level="warning")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
