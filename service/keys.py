"""Typed keys for what the application holds (aiohttp ``AppKey``s)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from service.metrics import Metrics  # noqa: F401 - named in the AppKeys below
    from service.runtime import Holder  # noqa: F401
    from service.store import Store  # noqa: F401
    from service.worker import Worker  # noqa: F401

HOLDER = web.AppKey("holder", "Holder")
STORE = web.AppKey("store", "Store")
WAKE = web.AppKey("wake", asyncio.Event)
METRICS = web.AppKey("metrics", "Metrics")
WORKER = web.AppKey("worker", "Worker")
