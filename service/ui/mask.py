"""Buyer personal data hidden by default: e-mail, phone, CPF/CNPJ, address.

Parsed bodies are masked by key (anywhere in the tree); text that is not JSON (a huge body
cut short, a receiver's error text) is masked by pattern: e-mails (also JSON-escaped,
``\\u0040``), long digit runs, and the value of any ``"key": "value"`` pair whose key names
personal data (``service.render.personal``).
"""

from __future__ import annotations

import re
from typing import Any

from service.render.filters import mask_email
from service.render.personal import is_personal_key

# bounded repeats: a long run of letters or digits costs linear time, not quadratic
_EMAIL = re.compile(r"[\w.+-]{1,64}(?:@|\\u0040)[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", re.IGNORECASE)
_PAIR = re.compile(r'"([\w-]{1,40})"\s{0,8}:\s{0,8}"((?:[^"\\]|\\.){0,200})"')
_DIGITS = re.compile(r"(?<![\w.])\+?\d[\d .()/-]{6,24}\d(?![\w])")


def mask_value(key: str, value: Any) -> Any:
    """One personal value hidden: an e-mail keeps its domain, other text its last 2 signs."""
    if isinstance(value, dict):
        return {k: mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(key, v) for v in value]
    if value is None or value == "":
        return value
    text = str(value)
    if "@" in text and key.lower() == "email":
        return mask_email(text)
    return "•" * min(8, max(3, len(text) - 2)) + text[-2:] if len(text) > 4 else "•••"


def mask_doc(doc: Any, parent_personal: bool = False) -> Any:
    """A copy of a decoded JSON document with personal fields masked."""
    if isinstance(doc, dict):
        # "number" alone (an invoice number) is personal only inside an address, and an
        # address is masked whole, so a top-level "number" stays visible
        return {k: (mask_value(k, v) if is_personal_key(k, parent_personal) else mask_doc(v))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [mask_doc(v) for v in doc]
    return doc


def mask_text(text: str) -> str:
    """Mask personal ``"key": "value"`` pairs, e-mails and long digit runs (CPF, phone, CNPJ)."""
    text = _PAIR.sub(_masked_pair, text)
    text = _EMAIL.sub(lambda m: mask_email(re.sub("(?i)\\\\u0040", "@", m.group(0))), text)
    return _DIGITS.sub(lambda m: "•" * 6 + m.group(0)[-2:], text)


def _masked_pair(match: re.Match[str]) -> str:
    key, value = match[1], match[2]
    return f'"{key}": "{mask_value(key, value)}"' if value and is_personal_key(key) else match[0]


def shown(text: str | None, show: bool = False) -> str:
    """A receiver's answer or an error for a console page: masked unless ``mostrar``."""
    return (text or "") if show else mask_text(text or "")
