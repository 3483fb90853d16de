"""Phone numbers for WhatsApp: E.164 with Brazil's rules, and masking for logs and errors.

``to_e164("(11) 98765-4321")`` → ``"+5511987654321"``. A number without a country code
is read as Brazilian (region BR, so ``011 98765-4321`` and ``11987654321`` work too);
one that starts with ``+`` or ``00`` keeps its own country. Eduzz's phone objects
(``{countryCode, areaCode, number}``) are accepted. ``phonenumbers`` (Google's
libphonenumber metadata) decides what is a valid number; anything else is a
``PhoneError`` whose text shows only the last digits (phone numbers are personal data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers

REGION = "BR"
_INTERNATIONAL = re.compile(r"^\s*00(?=[1-9])")


class PhoneError(ValueError):
    """A recipient that is not a phone number WhatsApp can reach; the text is masked."""


def to_e164(value: Any, region: str = REGION) -> str:
    """``value`` as an E.164 number (``+5511987654321``); PhoneError when it cannot be."""
    text = _text(value)
    if not text:
        raise PhoneError("the phone number is empty")
    text = _INTERNATIONAL.sub("+", text)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f"{mask(text)} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"{mask(text)} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164_or_empty(value: Any) -> str:
    """The ``e164`` template filter: ``to_e164`` or "" when ``value`` is not a phone number."""
    try:
        return to_e164(value)
    except PhoneError:
        return ""


def mask(value: Any) -> str:
    """Only the last 4 digits shown: ``+5511987654321`` → ``…4321`` (``…`` when too short)."""
    digits = re.sub(r"\D", "", _text(value))
    return f"…{digits[-4:]}" if len(digits) > 6 else "…"


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        parts = (value.get("countryCode"), value.get("areaCode"), value.get("number"))
        country = str(parts[0] or "").strip().lstrip("+")
        rest = " ".join(str(p) for p in parts[1:] if p)
        return f"+{country} {rest}" if country else rest
    return "" if value is None else str(value).strip()
