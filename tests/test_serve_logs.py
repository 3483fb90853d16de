"""What a real ``ponte serve`` writes to its JSON log when clients misbehave or start-up fails."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import base_config

MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /webhooks/eduzz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\x01en-value\r\n\r\n",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, "ponte exited during start-up"
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("ponte did not start")


def _exchange(port: int, data: bytes, *, hang_up: bool = False) -> bytes:
    """Send raw bytes; read the answer, or hang up at once."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        if hang_up:
            return b""
        return sock.recv(4096)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A real ``ponte serve`` (JSON logs to a file); stopped with SIGTERM afterwards."""
    port = _free_port()
    raw = base_config(tmp_path, server={"port": port, "admin_token": "t0ken"})
    (tmp_path / "ponte.yaml").write_text(yaml.safe_dump(raw))
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "service", "serve", "--config", "ponte.yaml"],
                                stdout=log, stderr=log, cwd=tmp_path)
        try:
            _wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
            yield port, log_path
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


def _log_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log, each of which must be one JSON object."""
    text = path.read_text()
    assert "Traceback" not in text, text
    return [json.loads(line) for line in text.splitlines()]


def test_malformed_http_and_hang_ups_are_one_json_line_each(served):
    """Malformed requests and clients that hang up mid-body never write a traceback."""
    port, log_path = served
    for data in MALFORMED:
        assert _exchange(port, data).startswith(b"HTTP/1.")
    _exchange(port, b"POST /webhooks/eduzz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a\":",
              hang_up=True)
    _exchange(port, b"POST /api/replay HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\n"
                    b"Content-Length: 1000\r\n\r\n{", hang_up=True)
    deadline = time.monotonic() + 10
    while not ("cut short" in log_path.read_text() and "/api/replay" in log_path.read_text()) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = _log_lines(log_path)
    failed = [line for line in lines if line["event"] == "http_request_failed"]
    assert any(line["reason"].startswith("malformed HTTP") for line in failed)
    assert [line["path"] for line in failed if "path" in line] == ["/api/replay"]
    assert "en-value" not in log_path.read_text()
    cut = [line for line in lines if line["event"] == "webhook_received" and "cut short" in line.get("error", "")]
    assert cut and cut[0]["http_status"] == 400


# root ignores file modes: drop the capabilities that let it (bounding set, before exec)
_AS_ROOT_WITHOUT_DAC = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for cap in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
    if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
os.execv(sys.executable, [sys.executable, "-m", "service", *sys.argv[1:]])
"""


def test_a_start_up_permission_error_is_one_line(tmp_path):
    """A data directory Ponte may not write to: exit 1 with one line naming the file, no traceback."""
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    raw = base_config(tmp_path, storage={"url": f"sqlite:///{data}/ponte.db"}, server={"port": _free_port()})
    (tmp_path / "ponte.yaml").write_text(yaml.safe_dump(raw))
    launcher = ["-c", _AS_ROOT_WITHOUT_DAC] if os.geteuid() == 0 else ["-m", "service"]
    try:
        result = subprocess.run([sys.executable, *launcher, "serve", "--config", "ponte.yaml"],
                                capture_output=True, text=True, timeout=60, cwd=tmp_path)
    finally:
        data.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"ponte: cannot open {data}/ponte.db.lock: Permission denied"
    assert all(line.startswith("{") for line in lines[:-1]), lines


def test_other_library_errors_keep_their_traceback_inside_one_json_line(capsys):
    """A standard-library record with an exception becomes one JSON line carrying it."""
    import logging

    from service import logs

    logs.configure(json=True)
    try:
        raise RuntimeError("library trouble")
    except RuntimeError:
        logging.getLogger("asyncio").error("Task exception was never retrieved", exc_info=True)
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["event"] == "Task exception was never retrieved" and record["logger"] == "asyncio"
    assert "RuntimeError: library trouble" in record["exception"]


async def test_webhook_401_log_lines_say_missing_or_mismatch_never_the_value(settings_for, start, capsys,
                                                                            monkeypatch):
    """A refused signature is logged with auth "missing" or "mismatch"; the value sent is not."""
    import structlog

    from service import logs
    from service.ingest import handler as ingest

    logs.configure(json=True)
    # a logger first used under another test's configuration stays cached: take a fresh one
    monkeypatch.setattr(ingest, "log", structlog.get_logger("ponte.ingest"))
    client = await start(settings_for())
    body = b'{"id": "s1", "event": "acme.x", "data": {}}'
    await client.post("/webhooks/eduzz", data=body)
    await client.post("/webhooks/eduzz", data=body, headers={"x-signature": "deadbeef" * 8})
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if "webhook_received" in line]
    assert [(line["http_status"], line["auth"]) for line in lines] == [(401, "missing"), (401, "mismatch")]
    assert "deadbeef" not in err
