"""The ``ponte`` command line: parses arguments and calls one function per command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from service import __version__, commands, logs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ponte", description="Webhook router for Eduzz and friends.")
    parser.add_argument("--version", action="version", version=f"ponte {__version__}",
                        help="print Ponte's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="run `ponte COMMAND --help` for its options")
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
        status = func(args)
        sys.stdout.flush()  # here, so a closed pipe is caught below and not at exit
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ponte events | head`: the reader has gone; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a tool the pipe closed on


if __name__ == "__main__":
    sys.exit(main())
