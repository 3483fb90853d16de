"""Personal data and secrets found by field name, whatever the event.

Built-in messages go to shared channels, so any field named like buyer data is masked
(``email``, ``document``/``cpf``/``cnpj``, ``phone``/``cellphone``, ``birthdate``,
address parts) and any field named like a credential (``*secret*``, ``*token*``,
``*password*``) is replaced by ``[redacted]``, at any depth. Names are compared without
case, ``_`` or ``-`` (``zipCode`` = ``zip_code``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from service.render.filters import mask_document, mask_email, mask_phone

REDACTED = "[redacted]"
EMAIL_KEYS = frozenset({"email", "mail", "emailaddress"})
DOCUMENT_KEYS = frozenset({"document", "documentnumber", "cpf", "cnpj", "cpfcnpj", "taxid", "rg"})
PHONE_KEYS = frozenset({"phone", "phone2", "cellphone", "mobile", "mobilephone", "telephone",
                        "whatsapp", "telefone", "celular"})  # fmt: skip
OTHER_KEYS = frozenset({"birthdate", "birthday", "dateofbirth", "address", "street", "neighborhood",
                        "complement", "zipcode", "postalcode", "cep"})  # fmt: skip
ADDRESS_ONLY = frozenset({"number"})  # an invoice number stays; a house number does not
_SECRET = re.compile(r"secret|token|password|passwd|apikey")


def _norm(key: Any) -> str:
    return re.sub(r"[_\-\s]", "", str(key)).lower()


def is_secret_key(key: Any) -> bool:
    """Whether a field is named like a credential (``originSecret``, ``access_token``)."""
    return bool(_SECRET.search(_norm(key)))


def is_personal_key(key: Any, in_address: bool = False) -> bool:
    """Whether a field is named like buyer personal data (``number`` only inside an address)."""
    name = _norm(key)
    personal = EMAIL_KEYS | DOCUMENT_KEYS | PHONE_KEYS | OTHER_KEYS
    return name in personal or (in_address and name in ADDRESS_ONLY)


def mask_field(key: Any, value: Any) -> Any:
    """One personal value hidden the way its kind is shown elsewhere (domain, last digits)."""
    if isinstance(value, Mapping):
        return {k: mask_field(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_field(key, v) for v in value]
    if value is None or value == "":
        return value
    name = _norm(key)
    if name in EMAIL_KEYS:
        return mask_email(value)
    if name in DOCUMENT_KEYS:
        return mask_document(value)
    if name in PHONE_KEYS:
        return mask_phone(value)
    return "•••"


def masked(doc: Any, in_address: bool = False) -> Any:
    """A copy of ``doc`` with personal fields masked and secret fields redacted."""
    if isinstance(doc, Mapping):
        return {k: _masked_item(k, v, in_address) for k, v in doc.items()}
    if isinstance(doc, list):
        return [masked(v, in_address) for v in doc]
    return doc


def _masked_item(key: Any, value: Any, in_address: bool) -> Any:
    if is_secret_key(key) and value not in (None, ""):
        return REDACTED
    if is_personal_key(key, in_address):
        return mask_field(key, value)
    return masked(value, _norm(key) == "address")


def without_secrets(doc: Any) -> Any:
    """A copy of ``doc`` with only the secret-named fields redacted (personal data kept)."""
    if isinstance(doc, Mapping):
        return {k: REDACTED if is_secret_key(k) and v not in (None, "") else without_secrets(v)
                for k, v in doc.items()}  # fmt: skip
    if isinstance(doc, list):
        return [without_secrets(v) for v in doc]
    return doc
