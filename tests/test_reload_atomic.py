"""Reload builds everything first and swaps last; a failed start exits 1 and frees the lock."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from conftest import SECRET, fixture_body, post_signed
from service.__main__ import main
from service.config.settings import load_settings
from service.delivery import worker as worker_module
from service.keys import HOLDER, STORE
from test_delivery import wait_for

REPO = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": "Bearer adm"}
BAD_URL = "http://u:p@[::1"


def _write(tmp_path: Path, sinks: dict[str, Any]) -> Path:
    raw = {
        "server": {"admin_token": "adm"},
        "storage": {"url": f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": [SECRET]}},
        "sinks": sinks,
        "routes": [{"name": "tudo", "events": ["*"], "to": list(sinks)}],
        "delivery": {"retry_schedule": ["50ms"]},
    }
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _file_sink(tmp_path: Path, name: str) -> dict[str, Any]:
    return {"type": "file", "path": str(tmp_path / f"{name}.jsonl")}


async def test_a_webhook_url_that_cannot_be_parsed_is_refused_by_check_and_reload(
        tmp_path, start, capsys):
    """`check` exits 1 on it, reload answers 422, and the old config keeps delivering."""
    path = _write(tmp_path, {"a": _file_sink(tmp_path, "a")})
    client = await start(load_settings(str(path)), worker=True)
    _write(tmp_path, {"a": _file_sink(tmp_path, "a"), "crm": {"type": "webhook", "url": BAD_URL}})
    assert main(["check", "--config", str(path)]) == 1
    assert "sinks.crm.url: not a valid URL" in capsys.readouterr().err
    resp = await client.post("/api/reload", headers=AUTH)
    assert resp.status == 422
    assert any("sinks.crm.url" in e for e in (await resp.json())["errors"])
    assert list(client.app[HOLDER].settings.config.sinks) == ["a"]
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: _delivered(client, {"succeeded": 1}))


async def _delivered(client: Any, counts: dict[str, int]) -> bool:
    return await client.app[STORE].counts() == counts


async def test_a_sink_that_fails_to_build_leaves_the_old_config_running(
        tmp_path, start, monkeypatch):
    """Building the new sinks happens before the swap: a failure is a 422, nothing half-applied."""
    path = _write(tmp_path, {"a": _file_sink(tmp_path, "a")})
    client = await start(load_settings(str(path)), worker=True)
    real = worker_module.build_sink

    def build(name: str, cfg: Any, **kwargs: Any) -> Any:
        if name == "b":
            raise RuntimeError("cannot build b")
        return real(name, cfg, **kwargs)

    monkeypatch.setattr(worker_module, "build_sink", build)
    _write(tmp_path, {"a": _file_sink(tmp_path, "a2"), "b": _file_sink(tmp_path, "b")})
    resp = await client.post("/api/reload", headers=AUTH)
    assert resp.status == 422
    assert "could not be applied (RuntimeError)" in (await resp.json())["errors"][0]
    settings = client.app[HOLDER].settings
    assert list(settings.config.sinks) == ["a"] and settings.routes[0].targets[0].sink == "a"
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    # nothing was planned for b (it would have been left pending forever)
    await wait_for(lambda: _delivered(client, {"succeeded": 1}))
    assert (tmp_path / "a.jsonl").exists() and not (tmp_path / "a2.jsonl").exists()


# ``ponte serve`` whose worker cannot start (the failure injected at Ponte's own seam).
_CHILD = """
import sys
from service.delivery import worker

async def start(self):
    raise RuntimeError("the worker cannot start")

worker.Worker.start = start
from service.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_start_that_fails_exits_1_and_releases_the_lock(tmp_path):
    """No hang holding the port and the lock: exit status 1, one error line, the lock is free."""
    path = _write(tmp_path, {"a": _file_sink(tmp_path, "a")})
    raw = yaml.safe_load(path.read_text())
    raw["server"]["port"] = 0
    path.write_text(yaml.safe_dump(raw))
    argv = ["serve", "--config", str(path), "--log-format", "json"]
    proc = subprocess.run([sys.executable, "-c", _CHILD, *argv],
                          cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1
    assert "ponte: could not start (RuntimeError)" in proc.stderr
    fd = os.open(tmp_path / "ponte.db.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a process still held it
    finally:
        os.close(fd)


async def test_reload_refuses_a_placeholder_secret_on_a_public_address(tmp_path, start):
    """Served on 0.0.0.0 (as `serve --host 0.0.0.0` records), reloading the dev secret is a 422."""
    path = _write(tmp_path, {"a": _file_sink(tmp_path, "a")})
    client = await start(load_settings(str(path)))
    client.app[HOLDER].listen_host = "0.0.0.0"  # what `serve` sets for the address it binds
    raw = yaml.safe_load(path.read_text())
    raw["sources"]["eduzz"]["secrets"] = ["dev-secret-change-me"]
    path.write_text(yaml.safe_dump(raw))
    resp = await client.post("/api/reload", headers=AUTH)
    assert resp.status == 422
    errors = (await resp.json())["errors"]
    assert any(e.startswith("sources.eduzz.secrets[0]: a well-known placeholder") for e in errors)
    assert client.app[HOLDER].settings.config.sources["eduzz"].secrets == [SECRET]
