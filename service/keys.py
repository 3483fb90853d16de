"""Typed keys for what the application holds (aiohttp ``AppKey``s)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from service.metrics import Metrics
    from service.runtime import Holder
    from service.store import Store
    from service.worker import Worker

HOLDER = web.AppKey("holder", "Holder")
STORE = web.AppKey("store", "Store")
WAKE = web.AppKey("wake", asyncio.Event)
METRICS = web.AppKey("metrics", "Metrics")
WORKER = web.AppKey("worker", "Worker")
