"""Standard-library log records (aiohttp, asyncio) as one structlog line each.

aiohttp logs a client that hangs up or sends malformed HTTP as "Error handling request"
with a multi-line traceback: the client's doing, not Ponte's. Those become one
``http_request_failed`` line with the reason and no traceback. Any other record keeps
its exception, which ``format_exc_info`` renders inside the same JSON line.
"""

from __future__ import annotations

import logging

import structlog
from aiohttp.http_exceptions import BadHttpMessage

CLIENT_FAULTS = (BadHttpMessage, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


class StructlogHandler(logging.Handler):
    """Hands each standard-library record to structlog (level, logger name, exception)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _forward(record)
        except Exception:  # noqa: BLE001 - a logging failure must never break the caller
            self.handleError(record)


def _forward(record: logging.LogRecord) -> None:
    log = structlog.get_logger(record.name)
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, CLIENT_FAULTS):
        log.info("http_request_failed", reason=client_fault(exc), logger=record.name)
        return
    exc_info = record.exc_info or None
    log.log(record.levelno, record.getMessage(), logger=record.name, exc_info=exc_info)


def client_fault(exc: BaseException) -> str:
    """A one-line reason, without the bytes the client sent (they may hold a token)."""
    if isinstance(exc, BadHttpMessage):
        lines = [line.strip() for line in str(exc.message).splitlines() if line.strip()]
        return f"malformed HTTP: {lines[0].rstrip(':') if lines else type(exc).__name__}"
    return "the client closed the connection"


def install() -> None:
    """Route the root logger through structlog (once, however often it is called)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StructlogHandler)]:
        root.removeHandler(handler)
    root.addHandler(StructlogHandler())
