"""The README's two set-up commands, run as a new user would: fresh directory, fresh venv."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def setup_commands() -> list[str]:
    """The two `python3 -m venv …` lines of the Quick start block."""
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip().startswith("python3 -m venv")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_copy(tmp_path: Path) -> Path:
    """The repository as a fresh clone would have it (tracked and new files, no venv, no data)."""
    target = tmp_path / "ponte"
    ignore = shutil.ignore_patterns(".venv", ".git", "data", "__pycache__", "*.egg-info", ".pytest_cache",
                                    ".hypothesis")
    shutil.copytree(ROOT, target, ignore=ignore)
    return target


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_second():
    """Two commands: install+serve, install+test; .ci/run runs the test one."""
    commands = setup_commands()
    assert len(commands) == 2
    assert commands[0].endswith("ponte serve") and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the serve command exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("/readyz never answered")


def test_first_command_serves_and_a_simulated_sale_arrives(tmp_path):
    """Command 1 in a fresh copy: /readyz answers, then `ponte simulate` lands in data/slack.jsonl."""
    work = fresh_copy(tmp_path)
    port = free_port()
    env = {**os.environ, "PONTE_PORT": str(port), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PONTE_CONFIG", None)
    env.pop("VIRTUAL_ENV", None)
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen(setup_commands()[0], shell=True, cwd=work, env=env, stdout=log, stderr=log,
                            start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc, timeout=600)
        simulate = [str(work / ".venv" / "bin" / "ponte"), "simulate", "myeduzz.invoice_paid",
                    "--url", f"http://127.0.0.1:{port}/webhooks/eduzz", "--secret", "dev-secret-change-me"]
        result = subprocess.run(simulate, cwd=work, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert '"accepted"' in result.stdout
        out = work / "data" / "slack.jsonl"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (out.exists() and out.read_text().strip()):
            time.sleep(0.2)
        assert "R$ 301,50" in out.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def test_second_command_installs_and_runs_tests(tmp_path):
    """Command 2 in a fresh copy: installs the test extras and pytest runs (on one module, not recursing)."""
    work = fresh_copy(tmp_path)
    command = setup_commands()[1]
    assert re.search(r"\.venv/bin/pytest$", command)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    result = subprocess.run(command + " -q -p no:cacheprovider tests/test_routing.py", shell=True, cwd=work,
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert sys.executable  # the outer interpreter is untouched
