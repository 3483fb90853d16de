"""Helpers for digest and report tests: a clock the test moves, the app with it, file lines."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from service.app import create_app
from service.batches.scheduler import CLOCK, SCHEDULER
from service.config.settings import Settings


class FakeClock:
    """The scheduler's clock, moved by the test (starts at the wall clock)."""

    def __init__(self, start: float | None = None) -> None:
        self.t = time.time() if start is None else start

    def now(self) -> float:
        """The time the test set."""
        return self.t

    def advance(self, seconds: float) -> None:
        """Move forward (or back, with a negative number)."""
        self.t += seconds


async def start_app(aiohttp_client: Any, settings: Settings, clock: FakeClock) -> Any:
    """The real app with the worker and the scheduler, on the test's clock."""
    app = create_app(settings, worker=True)
    app[CLOCK] = clock
    return await aiohttp_client(app)


async def tick(client: Any) -> None:
    """Run one scheduler pass now (the background one may run too: both are safe)."""
    await client.app[SCHEDULER].tick()


def lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines a file sink wrote."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def paid_body(
    i: int,
    value: float | None = 100.0,
    currency: str = "BRL",
    product: str = "Curso A",
    method: str = "pix",
    event: str = "myeduzz.invoice_paid",
) -> bytes:
    """An invoice event with its own id, amount, product and payment method."""
    data: dict[str, Any] = {
        "id": f"inv-{i}",
        "status": "paid",
        "paymentMethod": method,
        "buyer": {"name": f"Comprador {i}", "email": f"c{i}@example.com"},
        "items": [
            {
                "productId": f"p-{product}",
                "name": product,
                "price": {"currency": currency, "value": value},
            }
        ],
    }
    if value is not None:
        data["paid"] = data["price"] = {"currency": currency, "value": value}
        if event == "myeduzz.invoice_refunded":
            data["refund"] = {"currency": currency, "value": value}
    return json.dumps(
        {
            "id": f"ev-{event}-{i}",
            "event": event,
            "sentDate": "2026-11-30T12:00:00.000Z",
            "data": data,
        }
    ).encode()
