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

HOLDER: web.AppKey[Holder] = web.AppKey("holder")
STORE: web.AppKey[Store] = web.AppKey("store")
WAKE = web.AppKey("wake", asyncio.Event)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
WORKER: web.AppKey[Worker] = web.AppKey("worker")
