"""The admin API (bearer token); without ``server.admin_token`` every /api/ path is 404."""

from __future__ import annotations

from aiohttp import web


def add_routes(app: web.Application) -> None:
    """Register the /api/ handlers."""
