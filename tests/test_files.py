"""Files Ponte writes: created 0600, and a failed file-sink write never leaves a torn line."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from conftest import fixture_body, post_signed
from test_delivery import wait_for

REPO = Path(__file__).resolve().parent.parent
ENV = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_database_and_file_sink_output_are_created_0600(tmp_path, settings_for, start):
    """ponte.db, its -wal, -shm and lock files, and the file sink's JSONL are private."""
    out = tmp_path / "data" / "out.jsonl"
    settings = settings_for(storage={"url": f"sqlite:///{tmp_path}/data/ponte.db"},
                            sinks={"arquivo": {"type": "file", "path": str(out)}})
    client = await start(settings, worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(out.exists)
    for name in ("ponte.db", "ponte.db-wal", "ponte.db-shm", "ponte.db.lock", "out.jsonl"):
        assert _mode(tmp_path / "data" / name) == 0o600, name
    assert _mode(tmp_path / "data") & 0o077 == 0


# Runs in a child interpreter whose files may not grow past LIMIT bytes (RLIMIT_FSIZE, with
# SIGXFSZ ignored), as on a full disk: sends until one fails, then lifts the limit and sends
# again. Prints one JSON object: the outcome of every send.
_CHILD = """
import asyncio, json, resource, signal, sys
from service.config.schema import FileConfig
from service.errors import TransientSinkError
from service.sinks.base import Outgoing
from service.sinks.file import FileSender

limit, path = int(sys.argv[1]), sys.argv[2]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
sender = FileSender("arquivo", FileConfig(path=path))

def out(i):
    body = json.dumps({"id": i, "event": "acme.thing", "data": {"pad": "x" * 150}}).encode()
    return Outgoing(delivery_id=i, event_id=i, event="acme.thing", source="eduzz",
                    body=body, message=None, attempt=1)

async def main():
    outcomes = []
    for i in range(1, 20):
        try:
            await sender.send(out(i))
            outcomes.append("ok")
        except TransientSinkError as exc:
            outcomes.append(str(exc))
            break
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    await sender.send(out(100))
    outcomes.append("ok after")
    print(json.dumps(outcomes))

asyncio.run(main())
"""


def test_a_write_that_fails_part_way_is_cut_off_and_the_file_stays_valid_jsonl(tmp_path):
    """Past the size limit the line is cut off again; once there is room, the next is whole."""
    path = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-c", _CHILD, "1000", str(path)], capture_output=True,
                          text=True, timeout=60, env=ENV)
    assert proc.returncode == 0, proc.stderr
    outcomes = json.loads(proc.stdout)
    assert "ok" in outcomes and outcomes[-1] == "ok after"
    failed = outcomes[-2]
    assert failed.startswith("file sink 'arquivo': cannot write")
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""  # ends with a newline
    records = [json.loads(line) for line in lines[:-1]]
    ids = [r["delivery_id"] for r in records]
    assert ids == [*range(1, outcomes.count("ok") + 1), 100]


def test_a_torn_line_left_by_a_crash_is_cut_off_before_the_next_write(tmp_path):
    """A line cut short (power loss mid-write) does not swallow the next one."""
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"delivery_id": 1}\n{"delivery_id": 2, "tor')
    proc = subprocess.run([sys.executable, "-c", _CHILD, "100000", str(path)], capture_output=True,
                          text=True, timeout=60, env=ENV)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in path.read_bytes().splitlines()]  # every line parses
    assert records[0] == {"delivery_id": 1}  # the whole line before the torn one is kept
    assert [r["delivery_id"] for r in records[1:]] == [*range(1, 20), 100]
