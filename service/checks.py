"""Load-time checks of routes against the Eduzz catalogue, and template compilation."""

from __future__ import annotations

from typing import Any

from service.config import Config


def check_routes(config: Config, errors: list[str]) -> dict[tuple[str, str], Any]:
    """Compile every route template; append every problem to ``errors`` as ``path: message``."""
    return {}
