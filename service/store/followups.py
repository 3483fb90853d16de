"""What both store backends agree on for follow-ups: the cancel window, lateness, the reason text.

The rules themselves (what is scheduled, which keys an event cancels) are in
``service.routing.followups``; the stores only keep and match the keys.
"""

from __future__ import annotations

import hashlib

CANCEL_WINDOW = 24 * 3600.0  # a cancelling event this much older than a follow-up still cancels it
LATE = 60.0  # a follow-up made pending this long after it was due counts as a late send


def reason(event_id: int, why: str) -> str:
    """What a cancelled delivery's ``last_error`` says (PostgreSQL builds the same text in SQL)."""
    return f"cancelled by event #{event_id} {why}"


def lock_id(key: str) -> int:
    """A correlation key as a 60-bit integer: PostgreSQL's advisory lock on it."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:15], 16)
