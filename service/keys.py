"""Typed keys for what the application holds (aiohttp ``AppKey``s)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from service.config.settings import Holder
    from service.metrics import Metrics
    from service.store.protocol import Store

HOLDER: web.AppKey[Holder] = web.AppKey("holder")
STORE: web.AppKey[Store] = web.AppKey("store")
WAKE = web.AppKey("wake", asyncio.Event)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
