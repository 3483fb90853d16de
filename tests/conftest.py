"""Shared fixtures: configs on a real SQLite file in tmp_path, signed requests, the real app."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from pgkit import parametrize_backends, pg_url, store_url  # noqa: F401 - fixtures

from service.app import create_app
from service.config.load import parse_config
from service.config.settings import Settings, build_settings

SECRET = "test-secret"
FIXTURES = Path(__file__).resolve().parent.parent / "service" / "eduzz" / "fixtures"


def sign(body: bytes, secret: str = SECRET) -> str:
    """Eduzz's x-signature for ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fixture_body(event: str) -> bytes:
    """The catalogue's example payload for ``event``."""
    return (FIXTURES / f"{event}.json").read_bytes()


def base_config(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    """A config dict with an eduzz source, a file sink and one catch-all route."""
    raw: dict[str, Any] = {
        "storage": {"url": f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": [SECRET]}},
        "sinks": {"arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")}},
        "routes": [{"name": "tudo", "events": ["*"], "to": ["arquivo"]}],
    }
    raw.update(sections)
    return raw


@pytest.fixture(autouse=True)
def _fresh_logging() -> Any:
    """Each test starts with structlog's defaults (CLI tests configure it for the process)."""
    yield
    structlog.reset_defaults()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The end-to-end, ingest, delivery, API, reload and abuse tests run on both backends."""
    parametrize_backends(metafunc)


@pytest.fixture
def settings_for(tmp_path: Path, store_url: str) -> Callable[..., Settings]:  # noqa: F811
    """Build Settings from ``base_config`` (on this test's store) with sections replaced."""

    def make(**sections: Any) -> Settings:
        sections.setdefault("storage", {"url": store_url})
        return build_settings(parse_config(base_config(tmp_path, **sections), env={}))

    return make


@pytest.fixture
def start(aiohttp_client: Any) -> Callable[..., Any]:
    """Start the real app (worker optional) on 127.0.0.1 and return a test client."""

    async def run(settings: Settings, *, worker: bool = False, **kwargs: Any) -> Any:
        return await aiohttp_client(create_app(settings, worker=worker, **kwargs))

    return run


async def post_signed(client: Any, body: bytes, *, source: str = "eduzz", secret: str = SECRET,
                      headers: dict[str, str] | None = None) -> Any:
    """POST ``body`` signed as Eduzz signs it."""
    all_headers = {"x-signature": sign(body, secret), "content-type": "application/json"}
    all_headers.update(headers or {})
    return await client.post(f"/webhooks/{source}", data=body, headers=all_headers)
