"""The one structlog configuration: JSON lines off a terminal, coloured console on one."""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import msgspec
import structlog

from service import logbridge

EventDict = MutableMapping[str, Any]


class _Stderr:
    """Whatever ``sys.stderr`` is at the time of writing (it may be swapped after configure)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _StderrBytes:
    """JSON lines for ``sys.stderr``'s binary buffer (encoded once, by msgspec).

    On the event loop, lines are gathered and written once per loop iteration: a busy
    server logs a line per request, and one ``write`` per iteration instead of one per
    line keeps the syscalls off the request path. Off the loop (CLI, start-up, other
    threads) a line is written at once. What is gathered is also written at exit.
    """

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._scheduled = False
        atexit.register(self.drain)

    def write(self, data: bytes) -> int:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            _emit(data)
            return len(data)
        self._pending.append(data)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.drain)
        return len(data)

    def flush(self) -> None:
        """Nothing: lines are written at the end of the loop iteration (see ``drain``)."""

    def drain(self) -> None:
        """Write every gathered line now."""
        self._scheduled = False
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            _emit(data)


def _emit(data: bytes) -> None:
    stream = sys.stderr
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text-only stream (pytest's capture): write text
        stream.write(data.decode())
        return
    stream.flush()
    buffer.write(data)
    buffer.flush()


def _timestamp(logger: Any, name: str, event_dict: EventDict) -> EventDict:
    """``timestamp``: ISO 8601 UTC with microseconds, the date part formatted once a second."""
    now = time.time()
    second = int(now)
    if second != _second[0]:
        _second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    event_dict["timestamp"] = f"{_second[1]}.{int((now - second) * 1_000_000):06d}Z"
    return event_dict


_second: list[Any] = [None, ""]


_encoder = msgspec.json.Encoder(enc_hook=str)


def _dumps(event_dict: dict[str, object], default: object = None) -> bytes:
    """JSON for a log line with msgspec (several times faster than json.dumps); odd values as text."""
    return _encoder.encode(event_dict)


def configure(*, level: str = "info", json: bool | None = None) -> None:
    """Configure structlog once for the process; ``json`` defaults to "stderr is not a tty"."""
    as_json = (not sys.stderr.isatty()) if json is None else json
    renderer = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if as_json
        # plain tracebacks: rich's would print local variables, and those can hold secrets
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(),
                                           exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _timestamp,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=(structlog.BytesLoggerFactory(file=_StderrBytes()) if as_json  # type: ignore[arg-type]
                        else structlog.WriteLoggerFactory(file=_Stderr())),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logbridge.install()
