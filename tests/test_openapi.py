"""The OpenAPI document against the real handlers, property-based (schemathesis), on a real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import base_config

pytestmark = pytest.mark.slow
TOKEN = "openapi-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real `ponte serve` with the admin API on and a few stored events."""
    tmp = tmp_path_factory.mktemp("openapi")
    port = _free_port()
    raw = base_config(tmp, server={"port": port, "admin_token": TOKEN})
    (tmp / "ponte.yaml").write_text(yaml.safe_dump(raw))
    log = open(tmp / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve", "--config", str(tmp / "ponte.yaml")],
                            stdout=log, stderr=log, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/readyz", proc)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("ponte did not start")


def test_api_conforms_to_its_openapi_document(api_url: str, tmp_path: Path) -> None:
    """schemathesis runs every operation: no 5xx, documented statuses, bodies matching their schemas."""
    st = Path(sys.executable).parent / "schemathesis"
    command = [str(st), "run", f"{api_url}/api/openapi.json", "--checks", "all",
               "--header", f"Authorization: Bearer {TOKEN}", "--max-examples", "15", "--no-color"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
