"""The worker's wake-up, which remembers whether anyone but the worker itself rang it.

Everything that may make deliveries due (ingest, an operator, a digest, another replica, a
reload) calls ``set()``: the worker's next round then claims for every lane with room. A
send that finishes calls ``nudge()``: the round records it and claims only for lanes whose
last claim was full (``Lane.more``). With claims at save (SQLite) a finished send makes
nothing new due, so an unconditional claim after each one was an empty transaction.
"""

from __future__ import annotations

import asyncio


class Wake(asyncio.Event):
    """An ``asyncio.Event`` whose ``set()`` asks for a claim on every lane."""

    def __init__(self) -> None:
        super().__init__()
        self.claim_all = True

    def set(self) -> None:
        """Wake the worker: something may have become due."""
        self.claim_all = True
        super().set()

    def nudge(self) -> None:
        """Wake the worker to record a finished send (nothing new is due)."""
        super().set()

    def take_claim_all(self) -> bool:
        """Whether ``set()`` was called since the last take."""
        claim_all, self.claim_all = self.claim_all, False
        return claim_all
