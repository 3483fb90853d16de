"""A Meta Conversions API server event, finished from a rendered ``event`` mapping.

Pure: no I/O, no clock of its own (``now`` is passed in). ``finish`` takes what a template
(or the built-in Purchase of ``service.render.builtin.meta``) rendered and returns the
event Meta receives:

- ``event_id``, ``event_time`` and ``action_source`` are filled when missing (the
  envelope id, its ``sentDate``, ``website``); ``event_time`` written as ISO-8601 becomes
  unix seconds.
- ``user_data`` values Meta wants hashed are normalised by Meta's rules, then SHA-256
  hex; a value already 64-hex is kept (lowercased). ``fbc``, ``fbp``,
  ``client_ip_address``, ``client_user_agent`` and Meta's other "do not hash" keys pass
  as they are. Empty values are dropped everywhere.

Normalisation (Meta's customer information parameters, read 2026-12-06)::

    em            trimmed, lowercased (a value without "@" is dropped)
    ph            digits with the country code: E.164 by Ponte's phone rules (55 added to a
                  Brazilian number written without it); not a phone number: dropped
    fn, ln        lowercased, punctuation removed, accents kept (UTF-8, as Meta's "valéry")
    ct            as fn, and without spaces
    st            a Brazilian state's name becomes its UF ("São Paulo" -> "sp"); else as ct
    zp            lowercased, without spaces or dashes ("12345-123" -> "12345123")
    country       ISO 3166-1 alpha-2, lowercased ("Brasil" -> "br"); unknown names dropped
    ge            "f" or "m";  db  digits only (YYYYMMDD)
    external_id   trimmed

``Problem`` is raised for what Meta would refuse or what would be useless to send (no
``event_name``, an event older than 7 days, a buyer with no identifying field).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from service.render.phones import PhoneError, to_e164
from service.timeparse import parse_when

MAX_AGE = 7 * 86400  # Meta refuses the whole request when an event_time is older
HASHED = ("em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id")
IDENTIFYING = frozenset({"em", "ph", "external_id", "fbc", "fbp", "lead_id", "fb_login_id",
                         "subscription_id", "anon_id", "madid"})  # fmt: skip
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)
UF = {
    "acre": "ac", "alagoas": "al", "amapá": "ap", "amazonas": "am", "bahia": "ba", "ceará": "ce",
    "distritofederal": "df", "espíritosanto": "es", "goiás": "go", "maranhão": "ma",
    "matogrosso": "mt", "matogrossodosul": "ms", "minasgerais": "mg", "pará": "pa",
    "paraíba": "pb", "paraná": "pr", "pernambuco": "pe", "piauí": "pi", "riodejaneiro": "rj",
    "riograndedonorte": "rn", "riograndedosul": "rs", "rondônia": "ro", "roraima": "rr",
    "santacatarina": "sc", "sãopaulo": "sp", "sergipe": "se", "tocantins": "to",
}  # fmt: skip
COUNTRIES = {"brasil": "br", "brazil": "br", "portugal": "pt", "estadosunidos": "us",
             "unitedstates": "us", "eua": "us", "usa": "us", "argentina": "ar", "uruguai": "uy",
             "paraguai": "py", "chile": "cl", "méxico": "mx", "mexico": "mx", "espanha": "es",
             "angola": "ao", "moçambique": "mz"}  # fmt: skip


class Problem(ValueError):
    """The event cannot be sent; the text says why (it holds no personal data)."""


def sha256(text: str) -> str:
    """SHA-256 of the UTF-8 text, lowercase hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_hashed(value: str) -> bool:
    """Whether ``value`` is already a SHA-256 hex digest."""
    return bool(_SHA256.match(value))


# --- normalisation, one function per key -----------------------------------------------


def _email(text: str) -> str:
    text = text.strip().lower()
    return text if "@" in text.strip("@") else ""


def _phone(value: Any) -> str:
    try:
        return to_e164(value).lstrip("+")
    except PhoneError:
        return ""


def _name(text: str) -> str:
    """Lowercase, no punctuation, single spaces; accents kept (NFC, so one form hashes)."""
    text = unicodedata.normalize("NFC", text).lower()
    return " ".join(_PUNCTUATION.sub("", text).split())


def _place(text: str) -> str:
    return _name(text).replace(" ", "")


def _state(text: str) -> str:
    place = _place(text)
    return UF.get(place, place)


def _zip(text: str) -> str:
    return re.sub(r"[\s-]", "", text.lower())


def _country(text: str) -> str:
    place = _place(text)
    if len(place) == 2 and place.isascii() and place.isalpha():
        return place
    return COUNTRIES.get(place, "")


def _gender(text: str) -> str:
    first = text.strip().lower()[:1]
    return first if first in ("f", "m") else ""


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _trimmed(text: str) -> str:
    return text.strip()


NORMALISE: dict[str, Callable[[str], str]] = {
    "em": _email, "fn": _name, "ln": _name, "ct": _place, "st": _state, "zp": _zip,
    "country": _country, "ge": _gender, "db": _digits, "external_id": _trimmed,
}  # fmt: skip


def normalise(key: str, value: Any) -> str:
    """``value`` of user_data ``key`` normalised by Meta's rules ("" when unusable)."""
    if key == "ph":
        return _phone(value)
    if value is None or isinstance(value, (Mapping, list, bool)):
        return ""
    return NORMALISE[key](str(value))


def hashed(key: str, value: Any) -> str:
    """Normalised and hashed; a value already SHA-256 hex is kept. "" when unusable."""
    if isinstance(value, str) and is_hashed(value.strip()):
        return value.strip().lower()
    text = normalise(key, value)
    return sha256(text) if text else ""


def user_data(given: Mapping[str, Any]) -> dict[str, Any]:
    """``user_data`` with hashed keys normalised and hashed, the rest as given; empties dropped."""
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key in HASHED:
            many = value if isinstance(value, list) else [value]
            values = [h for v in many if (h := hashed(key, v))]
            if values:
                out[key] = values if isinstance(value, list) else values[0]
        elif not _empty(value):
            out[key] = value
    return out


# --- the event -------------------------------------------------------------------------


def finish(rendered: Any, *, envelope_id: str, sent: str | None, now: float) -> dict[str, Any]:
    """The server event Meta receives for a rendered ``event`` mapping; Problem if unusable."""
    if not isinstance(rendered, Mapping):
        raise Problem("the template's event must be a mapping (event_name, user_data, …)")
    event = {str(k): v for k, v in rendered.items() if not _empty(v)}
    if not isinstance(event.get("event_name"), str) or not event["event_name"].strip():
        raise Problem("the event has no event_name (Purchase, Lead, …)")
    event.setdefault("event_id", envelope_id)
    event["event_id"] = str(event["event_id"])
    event["event_time"] = unix_time(event.get("event_time", sent), now)
    event.setdefault("action_source", "website")
    given = event.get("user_data")
    event["user_data"] = user_data(given if isinstance(given, Mapping) else {})
    if not identifies(event["user_data"]):
        raise Problem("the buyer has no identifying field (e-mail, phone, id, fbc or fbp): "
                      "Meta could match this event to nobody, so it was not sent")  # fmt: skip
    if isinstance(event.get("custom_data"), Mapping):
        event["custom_data"] = custom_data(event["custom_data"])
    return event


def unix_time(value: Any, now: float) -> int:
    """Unix seconds from a number, digits or ISO-8601 text; ``now`` when missing."""
    if value is None or value == "":
        return int(now)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return int(parse_when(text))
    except ValueError:
        raise Problem(f"event_time {text[:40]!r} is neither unix seconds nor ISO-8601") from None


def check_age(event: Mapping[str, Any], now: float) -> None:
    """Problem when ``event_time`` is more than 7 days before ``now``: Meta refuses it."""
    days = (now - int(event["event_time"])) / 86400
    if days > MAX_AGE / 86400:
        raise Problem(f"the event happened {days:.1f} days ago; Meta accepts events up to 7 days old")


def identifies(data: Mapping[str, Any]) -> bool:
    """Whether user_data holds a field Meta can match on (IP and user agent count together)."""
    if IDENTIFYING & set(data):
        return True
    return "client_ip_address" in data and "client_user_agent" in data


def custom_data(given: Mapping[str, Any]) -> dict[str, Any]:
    """``custom_data`` with value a number, currency upper case, ids as text; empties dropped."""
    out = {str(k): v for k, v in given.items() if not _empty(v)}
    if "value" in out:
        out["value"] = _number(out["value"])
    if isinstance(out.get("currency"), str):
        out["currency"] = out["currency"].strip().upper()
    if "order_id" in out:
        out["order_id"] = str(out["order_id"])
    if isinstance(out.get("content_ids"), list):
        out["content_ids"] = [str(c) for c in out["content_ids"] if not _empty(c)]
        out.setdefault("content_type", "product")
    if "num_items" in out:
        out["num_items"] = int(_number(out["num_items"]))
    return {k: v for k, v in out.items() if not _empty(v)}


def _number(value: Any) -> float:
    try:
        return float(str(value).replace(",", ".")) if not isinstance(value, (int, float)) else value
    except ValueError:
        raise Problem(f"custom_data: {str(value)[:20]!r} is not a number") from None


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}
