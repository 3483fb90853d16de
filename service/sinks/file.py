"""File: append one JSON line per delivery to ``cfg.path`` (an audit trail, no credentials needed).

Each line is written whole and synced to disk before ``send`` returns; an ``asyncio.Lock``
keeps concurrent sends from interleaving. A full or unwritable disk is worth retrying.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

import msgspec

from service.config import FileSink
from service.errors import TransientSinkError
from service.sinks.base import Outgoing, SendResult

_encoder = msgspec.json.Encoder(enc_hook=str)


def decode_body(body: bytes) -> Any:
    """The raw body as JSON when it is JSON, else as text."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body.decode("utf-8", "replace")


def build_line(out: Outgoing) -> bytes:
    """One JSON object on one line, ending in a newline."""
    record = {
        "delivery_id": out.delivery_id,
        "event_id": out.event_id,
        "event": out.event,
        "source": out.source,
        "attempt": out.attempt,
        "message": out.message,
        "body": decode_body(out.body),
    }
    return _encoder.encode(record) + b"\n"


def append_line(path: Path, line: bytes, lock: threading.Lock) -> None:
    """Append and fsync (blocking: run it in a thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock, path.open("ab") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


class FileSender:
    """Appends each delivery to a JSON Lines file."""

    kind = "file"

    def __init__(self, name: str, cfg: FileSink) -> None:
        self.name = name
        self.cfg = cfg
        self.path = Path(cfg.path)
        self.label = f"file sink {name!r}"
        self._lock = asyncio.Lock()
        # A cancelled send releases the asyncio lock while its thread may still be
        # writing; the thread lock keeps that write whole too.
        self._thread_lock = threading.Lock()

    async def send(self, out: Outgoing) -> SendResult:
        """Append one line; raise TransientSinkError when the file cannot be written."""
        line = build_line(out)
        async with self._lock:
            try:
                await asyncio.to_thread(append_line, self.path, line, self._thread_lock)
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise TransientSinkError(f"{self.label}: cannot write ({reason})") from None
        return SendResult(response=f"appended {len(line)} bytes")

    async def close(self) -> None:
        """Wait for a write in progress; the file is opened per write, so nothing else to do."""
        async with self._lock:
            pass
