"""File: append one JSON line per delivery to ``cfg.path`` (an audit trail, no credentials needed).

Each line is written whole and synced to disk before ``send`` returns; an ``asyncio.Lock``
keeps concurrent sends from interleaving. A full or unwritable disk is worth retrying, and
a failed write is cut off again, so the file always holds whole lines. Created 0600: the
lines carry buyers' personal data.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

import msgspec

from service.config.schema import FileConfig
from service.errors import TransientSinkError
from service.sinks.base import Context, Outgoing, SendResult, SinkKind

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
    """Append and fsync (blocking: run it in a thread); the file is created 0600.

    A write that fails part-way (full disk, file size limit) is cut off again, back to the
    last whole line, so the file stays valid JSON Lines and the next line starts clean.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            good = last_whole_line(fd)
            try:
                _write_all(fd, line)
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, good)
                raise
        finally:
            os.close(fd)


def last_whole_line(fd: int) -> int:
    """The size of the file up to its last newline, cutting off a torn line a crash left."""
    end = size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":  # the usual case: one byte read
        return size
    while end > 0:
        start = max(0, end - 65536)
        chunk = os.pread(fd, end - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            good = start + newline + 1
            if good < size:
                os.ftruncate(fd, good)
            return good
        end = start
    if size:
        os.ftruncate(fd, 0)
    return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class FileSender:
    """Appends each delivery to a JSON Lines file."""

    kind = "file"

    def __init__(self, name: str, cfg: FileConfig) -> None:
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


def _build(name: str, cfg: FileConfig, ctx: Context) -> FileSender:
    return FileSender(name, cfg)


KIND = SinkKind(FileConfig, _build, format=None, digests=True)
