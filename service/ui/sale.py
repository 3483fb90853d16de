"""What happened in an event, in one line of the events list: who bought what, for how much.

Read from the stored body (small ones only: ``SUMMARY_BYTES``); the buyer's e-mail is masked
here, since the list has no "mostrar". Paths tried in order cover the Eduzz invoice and
contract families; anything else leaves the cells empty.
"""

from __future__ import annotations

from typing import Any

import msgspec

from service.render.filters import brl, mask_email

SUMMARY_BYTES = 256 * 1024
_PEOPLE = ("buyer", "customer", "student", "client")
_AMOUNTS = ("paid", "price", "value", "amount")


def sale_line(body: bytes | None) -> dict[str, str]:
    """``{"buyer", "email", "product", "amount"}`` (masked e-mail, ``R$ 1.234,56``), "" when absent."""
    data = _data(body)
    person = _first_dict(data, _PEOPLE)
    return {"buyer": _text(person.get("name")), "email": mask_email(person.get("email") or ""),
            "product": _product(data), "amount": _amount(data)}


def _data(body: bytes | None) -> dict[str, Any]:
    try:
        doc = msgspec.json.decode(body or b"")
    except (msgspec.DecodeError, UnicodeDecodeError):
        return {}
    data = doc.get("data") if isinstance(doc, dict) else None
    return data if isinstance(data, dict) else {}


def _first_dict(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    for key in keys:
        found = data.get(key)
        if isinstance(found, dict):
            return found
    return {}


def _product(data: dict[str, Any]) -> str:
    listed = data.get("items")
    items = [i for i in listed if isinstance(i, dict)] if isinstance(listed, list) else []
    if items:
        more = f" +{len(items) - 1}" if len(items) > 1 else ""
        return _text(items[0].get("name")) + more
    return _text(_first_dict(data, ("product", "offer")).get("name"))


def _amount(data: dict[str, Any]) -> str:
    for key in _AMOUNTS:
        if data.get(key) is not None:
            text = brl(data[key])
            if text:
                return text
    return ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
