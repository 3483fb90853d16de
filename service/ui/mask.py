"""Buyer personal data hidden by default: e-mail, phone, CPF/CNPJ, address.

Parsed bodies are masked by key (anywhere in the tree); text that is not JSON (or a huge
body cut short) is masked by pattern.
"""

from __future__ import annotations

import re
from typing import Any

from service.render.filters import mask_email

PERSONAL_KEYS = frozenset({
    "email", "phone", "phone2", "cellphone", "document", "cpf", "cnpj", "address", "street",
    "number", "neighborhood", "complement", "zipcode", "zip_code", "postalcode",
})
# bounded repeats: a long run of letters or digits costs linear time, not quadratic
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
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
        return {k: (mask_value(k, v) if k.lower() in PERSONAL_KEYS and _inside_person(k, parent_personal)
                    else mask_doc(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [mask_doc(v) for v in doc]
    return doc


def _inside_person(key: str, parent_personal: bool) -> bool:
    # "number" alone (an invoice number, an item count) is only personal inside an address,
    # and an address is masked whole, so a top-level "number" stays visible.
    return key.lower() != "number" or parent_personal


def mask_text(text: str) -> str:
    """Mask e-mails and long digit runs (CPF, phone, CNPJ) in free text."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _DIGITS.sub(lambda m: "•" * 6 + m.group(0)[-2:], text)
