"""The log writer: JSON lines, written once per event-loop iteration while serving."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import structlog

from service import logs


class _Stderr(io.TextIOWrapper):
    """A stand-in for sys.stderr that counts the writes reaching its binary buffer."""

    def __init__(self) -> None:
        self.raw_writes: list[bytes] = []
        outer = self

        class Buffer(io.BytesIO):
            def write(self, data: bytes) -> int:  # type: ignore[override]
                outer.raw_writes.append(bytes(data))
                return super().write(data)

        super().__init__(Buffer(), encoding="utf-8")

    def isatty(self) -> bool:
        return False


@pytest.fixture
def stderr() -> Iterator[_Stderr]:
    """A fake stderr, swapped in during the test body only (pytest swaps its own in per phase)."""
    fake = _Stderr()
    logs.configure(level="info", json=True)
    yield fake
    structlog.reset_defaults()


@contextmanager
def swapped(fake: _Stderr) -> Iterator[None]:
    real, sys.stderr = sys.stderr, fake
    try:
        yield
    finally:
        sys.stderr = real


def _lines(stderr: _Stderr) -> list[dict[str, object]]:
    return [json.loads(line) for chunk in stderr.raw_writes for line in chunk.splitlines()]


async def test_lines_logged_in_one_iteration_are_written_together_after_it(stderr):
    """A busy loop logs many lines per iteration; they reach stderr in one write, in order."""
    log = structlog.get_logger("test")
    with swapped(stderr):
        for i in range(3):
            log.info("webhook_received", n=i)
        assert stderr.raw_writes == []  # not yet: written when the iteration ends
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    assert len(stderr.raw_writes) == 1
    lines = _lines(stderr)
    assert [line["n"] for line in lines] == [0, 1, 2]
    assert all(line["event"] == "webhook_received" and line["level"] == "info" for line in lines)
    assert all(str(line["timestamp"]).endswith("Z") and "T" in str(line["timestamp"]) for line in lines)


def test_off_the_loop_a_line_is_written_at_once(stderr):
    """CLI commands and start-up have no running loop: nothing waits."""
    with swapped(stderr):
        structlog.get_logger("test").warning("config_warning", detail="x")
    assert len(stderr.raw_writes) == 1
    assert _lines(stderr)[0]["detail"] == "x"


async def test_gathered_lines_are_written_by_drain(stderr):
    """What is gathered when the process exits is written (drain runs at exit too)."""
    with swapped(stderr):
        structlog.get_logger("test").info("last_words")
        assert stderr.raw_writes == []
        structlog.get_config()["logger_factory"]._file.drain()
    assert _lines(stderr)[0]["event"] == "last_words"


def test_timestamps_are_iso_utc_with_microseconds():
    """The cached date part and the fresh fraction make one valid ISO 8601 instant."""
    from datetime import datetime

    stamp = logs._timestamp(None, "info", {})["timestamp"]
    parsed = datetime.fromisoformat(str(stamp))  # Python 3.11 reads the Z
    assert parsed.tzinfo is not None and len(str(stamp).split(".")[1]) == 7  # 6 digits + Z
