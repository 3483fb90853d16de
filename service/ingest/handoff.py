"""Claim at save: ingest hands an event's deliveries to the worker in the event's own commit.

Without it, each event costs the worker a claim of its own after ingest wakes it: another
transaction, another trip to the writer thread, another round of the worker. Where the
store can (``Store.claims_at_save``: SQLite) and a sink has a free slot and nothing waiting
before it, ingest asks the worker to ``reserve`` the slot, saves those deliveries already
``sending`` and, once the commit is known, ``settle`` starts them (or gives the slots back).

The worker implements ``Handoff`` (``service.delivery.worker``); this module is the seam,
so ingest never imports the delivery area. Nothing weakens: the rows are committed before
the 200 and before any send, and a crash leaves them ``sending`` for ``Store.recover``, as
any claim.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from service.store.records import NewDelivery, NewEvent, Saved


class Reservation(Protocol):
    """Slots held for one event's deliveries until its save is settled."""

    @property
    def deliveries(self) -> list[NewDelivery]:
        """The deliveries to save: those with a slot say ``sending``."""

    def settle(self, event: NewEvent, saved: Saved | None) -> None:
        """The save ended: start the claimed deliveries, or (``saved`` None: nothing was
        stored; a duplicate: none of them was) give their slots back. Called exactly once."""


class Handoff(Protocol):
    """The worker, as ingest sees it."""

    def reserve(self, deliveries: list[NewDelivery]) -> Reservation | None:
        """Hold a slot for each delivery that can go at once; None when none can."""


HANDOFF: web.AppKey[Handoff] = web.AppKey("handoff")
"""Where the app keeps the worker for ingest, once it has started (``service.app``)."""
