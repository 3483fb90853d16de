"""File sink: one valid JSON line per delivery, whole under concurrency, disk errors retried."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from service.config.schema import FileConfig
from service.errors import TransientSinkError
from service.sinks.file import FileSender
from sink_contract import BODY, outgoing


def lines(path: Path) -> list[dict[str, object]]:
    """Every line of ``path`` parsed as JSON (fails on a partial line)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_writes_one_json_line_per_delivery(tmp_path: Path) -> None:
    """The record holds the delivery's ids, the message and the decoded body; dirs are created."""
    path = tmp_path / "deep" / "dir" / "events.jsonl"
    sink = FileSender("auditoria", FileConfig(path=str(path)))
    await sink.send(outgoing())
    await sink.send(outgoing(delivery_id=8, message={"text": "oi"}, body=b"not json\n", attempt=2))
    first, second = lines(path)
    assert first == {
        "delivery_id": 7, "event_id": 42, "event": "myeduzz.invoice_paid", "source": "eduzz",
        "attempt": 1, "message": None, "body": json.loads(BODY),
    }  # fmt: skip
    assert (second["message"], second["body"]) == ({"text": "oi"}, "not json\n")


async def test_pretty_printed_body_stays_on_one_line(tmp_path: Path) -> None:
    """A body with newlines inside is re-encoded, so each delivery is still exactly one line."""
    path = tmp_path / "events.jsonl"
    await FileSender("a", FileConfig(path=str(path))).send(outgoing(body=b'{\n  "a": [1,\n 2]\n}'))
    assert lines(path) == [{**lines(path)[0], "body": {"a": [1, 2]}}]


async def test_concurrent_sends_never_interleave(tmp_path: Path) -> None:
    """50 concurrent sends give 50 whole JSON lines."""
    path = tmp_path / "events.jsonl"
    sink = FileSender("a", FileConfig(path=str(path)))
    big = json.dumps({"data": "x" * 20_000}).encode()
    await asyncio.gather(*(sink.send(outgoing(delivery_id=i, body=big)) for i in range(50)))
    records = lines(path)
    assert sorted(r["delivery_id"] for r in records) == list(range(50))  # type: ignore[type-var]


async def test_unwritable_path_is_transient(tmp_path: Path) -> None:
    """An OSError (here: the path is a directory) is retried later; the error says why, briefly."""
    sink = FileSender("a", FileConfig(path=str(tmp_path)))
    with pytest.raises(TransientSinkError) as info:
        await sink.send(outgoing())
    assert str(info.value) == "file sink 'a': cannot write (Is a directory)"
