"""Typed, lenient Structs for the platforms beside Eduzz (Hotmart, Kiwify), for validation only.

As for Eduzz (``service.eduzz.structs``): every field may be missing or null, unknown keys
are ignored (the raw body keeps them), ids take text or numbers. A value of the wrong type
is recorded on the event as ``schema_error``; an authenticated event is never refused.
The example bodies (``fixtures/``) serve the tests and ``ponte simulate``.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def example_names() -> list[str]:
    """The events with an example body (``hotmart.purchase_approved``, ``kiwify.…``)."""
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def example_bytes(event: str) -> bytes | None:
    """The example body of ``event`` as the platform sends it; None when there is none."""
    path = FIXTURES / f"{event}.json"
    return path.read_bytes() if event in example_names() else None
