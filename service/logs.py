"""The one structlog configuration: JSON lines off a terminal, coloured console on one."""

from __future__ import annotations

import logging
import sys

import msgspec
import structlog


class _Stderr:
    """Whatever ``sys.stderr`` is at the time of writing (it may be swapped after configure)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _StderrBytes:
    """``sys.stderr``'s binary buffer at the time of writing (JSON lines are encoded once, by msgspec)."""

    def write(self, data: bytes) -> int:
        stream = sys.stderr
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text-only stream (pytest's capture): write text
            return stream.write(data.decode())
        stream.flush()
        return buffer.write(data)

    def flush(self) -> None:
        stream = sys.stderr
        getattr(stream, "buffer", stream).flush()


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
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=(structlog.BytesLoggerFactory(file=_StderrBytes()) if as_json  # type: ignore[arg-type]
                        else structlog.WriteLoggerFactory(file=_Stderr())),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
