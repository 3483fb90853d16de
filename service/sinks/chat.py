"""Small pieces the chat sinks (telegram, discord, teams) share: reading answers and messages."""

from __future__ import annotations

from typing import Any

import msgspec

from service.errors import PermanentSinkError

JSON = "application/json; charset=utf-8"


def json_object(text: str) -> dict[str, Any]:
    """A provider's JSON answer as a dict; ``{}`` when it is not a JSON object."""
    try:
        answer = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return {}
    return answer if isinstance(answer, dict) else {}


def seconds(value: Any) -> float | None:
    """A non-negative number of seconds from a JSON value, else None."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    return float(value) if ok else None


def structured(value: Any, label: str, key: str) -> Any:
    """A rendered ``embeds``/``card`` value: JSON text is decoded; PermanentSinkError if invalid."""
    if not isinstance(value, str):
        return value
    try:
        return msgspec.json.decode(value)
    except msgspec.DecodeError:
        raise PermanentSinkError(f"{label}: {key} is not valid JSON") from None
