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
    """``value`` as an E.164 number (``+5511987654321``); PhoneError when it cannot be,
    naming the number by its last digits and saying why (``…76 (6 digits): too short``)."""
    text = _text(value)
    if not text:
        raise PhoneError("the phone number is empty")
    text = _INTERNATIONAL.sub("+", text)
    shown = f"{mask(text)} ({_digit_count(text)})" if re.search(r"\d", text) else mask(text)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"{shown} is not a phone number: {_PARSE.get(exc.error_type, 'unreadable')}") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"{shown} is not a valid phone number: {_reason(number)}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_PARSE = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "no digits to read",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}
_POSSIBLE = {
    phonenumbers.ValidationResult.TOO_SHORT: "too short (a Brazilian mobile has DDD + 9 digits)",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong number of digits for its country",
}


def _reason(number: phonenumbers.PhoneNumber) -> str:
    why = _POSSIBLE.get(phonenumbers.is_possible_number_with_reason(number))
    return why or "no such area code or number range in its country (check the DDD)"


def _digit_count(text: str) -> str:
    return f"{sum(c.isdigit() for c in text)} digits"


def e164_or_empty(value: Any) -> str:
    """The ``e164`` template filter: ``to_e164`` or "" when ``value`` is not a phone number."""
    try:
        return to_e164(value)
    except PhoneError:
        return ""


def mask(value: Any) -> str:
    """The last digits only: ``+5511987654321`` → ``…4321``; 3 to 6 digits → ``…76``; else ``…``."""
    digits = re.sub(r"\D", "", _text(value))
    if len(digits) > 6:
        return f"…{digits[-4:]}"
    return f"…{digits[-2:]}" if len(digits) >= 3 else "…"


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        parts = (value.get("countryCode"), value.get("areaCode"), value.get("number"))
        country = str(parts[0] or "").strip().lstrip("+")
        rest = " ".join(str(p) for p in parts[1:] if p)
        return f"+{country} {rest}" if country else rest
    return "" if value is None else str(value).strip()
