"""``fresh_loggers``: make ``structlog.testing.capture_logs`` see Ponte's module loggers.

``logs.configure`` (run by CLI tests in the same process) sets cache_logger_on_first_use,
after which module-level loggers ignore ``capture_logs``. The fixture gives every
``service`` module an uncached logger proxy for one test and restores everything after.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import structlog
from structlog._config import BoundLoggerLazyProxy


@pytest.fixture
def fresh_loggers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """structlog's defaults and uncached module loggers, for this test only."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    for name, module in list(sys.modules.items()):
        if name != "service" and not name.startswith("service."):
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, BoundLoggerLazyProxy):
                args = value._logger_factory_args or ()
                monkeypatch.setattr(module, attr, structlog.get_logger(*args, **value._initial_values))
    yield
    structlog.configure(**saved)
