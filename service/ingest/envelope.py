"""The envelope every webhook carries, decoded leniently.

Eduzz sends ``{"id", "event", "sentDate", "data"}`` but its own examples lack ``id`` or
``sentDate`` at times, send ids as numbers, put ``sentDate`` inside ``data`` and drop the
app prefix from ``event``. None of that is a reason to refuse an authenticated event:
only a body that is not a JSON object with an ``event`` name is (``EnvelopeError``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from service.errors import EnvelopeError

_decode = msgspec.json.Decoder().decode


class Envelope(msgspec.Struct, frozen=True):
    """What Ponte needs from a webhook body; the body itself is kept byte for byte."""

    external_id: str
    event: str
    sent_date: str | None
    doc: dict[str, Any]


def decode(body: bytes, *, event: str | None = None, external_id: str | None = None) -> Envelope:
    """Decode a body into an Envelope; ``event``/``external_id`` override the body's (from headers)."""
    doc = _parse(body)
    name = event if event is not None else _event_name(doc)
    return Envelope(
        external_id=external_id or _identity(doc, body),
        event=name,
        sent_date=_sent_date(doc),
        doc=doc,
    )


MAX_DEPTH = 64  # Eduzz nests 6 levels; deeper bodies cannot be rendered safely


def _parse(body: bytes) -> dict[str, Any]:
    if not body:
        raise EnvelopeError("empty body: expected a JSON object")
    try:
        doc = _decode(body)
    except msgspec.DecodeError as exc:
        raise EnvelopeError(f"malformed JSON: {exc}") from None
    except UnicodeDecodeError:
        raise EnvelopeError("malformed JSON: the body is not valid UTF-8") from None
    except RecursionError:
        raise EnvelopeError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(doc, dict):
        raise EnvelopeError(f"expected a JSON object, got {_kind(doc)}")
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and _depth(doc) > MAX_DEPTH:
        raise EnvelopeError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return doc


def _depth(node: Any) -> int:
    """How deep containers nest (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, level + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def _kind(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _event_name(doc: dict[str, Any]) -> str:
    name = doc.get("event")
    if not isinstance(name, str) or not name.strip():
        raise EnvelopeError('missing "event": the body must name its event')
    if len(name) > 200:
        raise EnvelopeError('"event" is longer than 200 characters')
    return name.strip()


def _identity(doc: dict[str, Any], body: bytes) -> str:
    """The sender's id, or a hash of the body when there is none (same body, same identity).

    Kept whole, however long (the body limit bounds it): a cut id would merge two events.
    """
    value = doc.get("id")
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _sent_date(doc: dict[str, Any]) -> str | None:
    value = doc.get("sentDate")
    if value is None and isinstance(doc.get("data"), dict):
        value = doc["data"].get("sentDate")
    return value if isinstance(value, str) else None
