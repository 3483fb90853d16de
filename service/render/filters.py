"""Template filters for Brazilian commerce: money, numbers, dates, masking, Eduzz enums, Slack links.

Registered on every template environment by ``service.templates``; plain functions,
so each can be tested alone. None of them raises on odd input: a value a filter cannot
read comes back empty or unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup


class SlackText(str):
    """Text already safe for Slack mrkdwn (``slack_link`` output): not escaped again."""

    __slots__ = ()


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
"""Control characters and line/paragraph separators: what must not reach a header line."""


def one_line(text: str) -> str:
    """``text`` as one line: control characters and line breaks become spaces."""
    return CONTROL.sub(" ", text).strip()


def slack_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")



_SYMBOLS = {"BRL": "R$", "USD": "US$", "EUR": "€"}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    else:
        text = value.strip() if isinstance(value, str) else repr(value)
        if isinstance(value, str) and "," in text:  # "1.234,56"
            text = text.replace(".", "").replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            return None
    return amount if amount.is_finite() else None


def _grouped(amount: Decimal, digits: int) -> str:
    try:
        amount = amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        pass
    return f"{amount:,.{digits}f}".translate(str.maketrans(",.", ".,"))


def brl(value: Any) -> str:
    """1234.56 or {"currency": "BRL", "value": 1234.56} -> "R$ 1.234,56"; not a number -> ""."""
    currency = "BRL"
    if isinstance(value, Mapping):
        currency = str(value.get("currency") or "BRL").upper()
        value = value.get("value")
    amount = _decimal(value)
    if amount is None:
        return ""
    text = _grouped(abs(amount), 2)
    sign = "-" if amount < 0 and text.strip("0,.") else ""
    return f"{sign}{_SYMBOLS.get(currency, currency)} {text}"


def number(value: Any, digits: int | None = None) -> str:
    """1234.5 -> "1.234,5"; ``digits`` fixes the decimals (else up to 6); not a number -> ""."""
    amount = _decimal(value)
    if amount is None:
        return ""
    if digits is None:
        try:
            exponent = amount.quantize(Decimal("1e-6"), ROUND_HALF_UP).normalize().as_tuple()[2]
        except InvalidOperation:
            exponent = 0
        digits = max(0, -exponent) if isinstance(exponent, int) else 0
    return _grouped(amount, max(0, int(digits)))


def percent(value: Any, digits: int | None = None, ratio: bool = False) -> str:
    """50 -> "50%" (0.5 with ``ratio=True``); not a number -> ""."""
    amount = _decimal(value)
    if amount is None:
        return ""
    return number(amount * 100 if ratio else amount, digits) + "%"


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _moment(value: Any) -> datetime | date | None:
    if isinstance(value, (datetime, date)):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _DATE_ONLY.fullmatch(text):
            return date.fromisoformat(text)
        return datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        return None


def moment_filter(default_format: str, zone: ZoneInfo) -> Any:
    def moment(value: Any, fmt: str | None = None) -> Any:
        """Format an ISO-8601 date in the configured zone (naive = UTC); else return it as is."""
        found = _moment(value)
        if isinstance(found, datetime):
            found = (found if found.tzinfo else found.replace(tzinfo=UTC)).astimezone(zone)
            return found.strftime(fmt or default_format)
        return value if found is None else found.strftime(fmt or "%d/%m/%Y")

    return moment


def mask_email(value: Any) -> str:
    """"alice.johnson@example.com" -> "a***@example.com"."""
    text = _text(value).strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return f"{text[:1]}***" if text else ""
    return f"{local[:1]}***@{domain}"


def mask_document(value: Any) -> str:
    """CPF -> "***.456.789-**", CNPJ -> "**.345.678/0001-**", else all but the last 2 masked."""
    text = _text(value).strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11:
        return f"***.{digits[3:6]}.{digits[6:9]}-**"
    if len(digits) == 14:
        return f"**.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-**"
    return "*" * len(text) if len(text) <= 2 else "*" * (len(text) - 2) + text[-2:]


def mask_phone(value: Any) -> str:
    """"+5515999999999" -> "+**********9999" (also a {countryCode, areaCode, number} map)."""
    if isinstance(value, Mapping):
        parts = (value.get("countryCode"), value.get("areaCode"), value.get("number"))
        value = " ".join(str(p) for p in parts if p)
    text = _text(value).strip()
    total = sum(c.isdigit() for c in text)
    keep, seen, out = (4 if total > 4 else 0), 0, []
    for char in text:
        if char.isdigit():
            seen += 1
            char = char if seen > total - keep else "*"
        out.append(char)
    return "".join(out)


PAYMENT_METHODS = {
    "bankslip": "Boleto", "pix": "Pix", "creditcard": "Cartão de crédito",
    "debitcard": "Cartão de débito", "combinedpayment": "Pagamento combinado",
    "installmentbankslip": "Boleto parcelado", "eduzzbalance": "Saldo Eduzz",
    "automaticpix": "Pix Automático", "paypal": "PayPal", "free": "Gratuito",
    "unknown": "Desconhecido",
    # sale.payment_method (service.sales)
    "credit_card": "Cartão de crédito", "debit_card": "Cartão de débito", "boleto": "Boleto",
    "balance": "Saldo", "google_pay": "Google Pay", "apple_pay": "Apple Pay",
}  # fmt: skip

STATUSES = {
    # invoices (FACTS §5)
    "open": "Aberta", "processing": "Processando", "paid": "Paga", "canceled": "Cancelada",
    "waitingdocuments": "Aguardando documentos", "waitingrefund": "Aguardando reembolso",
    "refunded": "Reembolsada", "analysing": "Em análise", "duplicated": "Duplicada",
    "expired": "Expirada", "recovering": "Em recuperação", "internal": "Interna",
    "trial": "Em período de teste", "deleted": "Excluída", "refused": "Recusada",
    "waitingpayment": "Aguardando pagamento", "overdue": "Vencida", "scheduled": "Agendada",
    "negotiated": "Negociada", "partialrefund": "Reembolso parcial",
    # sale.status (service.sales), where it differs from the above
    "waiting_payment": "Aguardando pagamento", "cancelled": "Cancelada",
    "chargeback": "Chargeback", "abandoned": "Abandonado",
    # contracts (assinaturas)
    "uptodate": "Em dia", "awaitingpayment": "Aguardando pagamento", "late": "Atrasada",
    "defaulter": "Inadimplente", "suspended": "Suspensa", "finished": "Finalizada",
    "free": "Gratuita",
    # chargebacks
    "pendingdocuments": "Aguardando documentos", "underreview": "Em análise",
    "rejected": "Rejeitado", "unknown": "Desconhecido",
    # contract_updated reasons
    "status_updated": "Mudança de status", "negotiation": "Negociação",
    "readjustment": "Reajuste", "upgrade": "Upgrade", "downgrade": "Downgrade",
    "reactivation": "Reativação", "suspension": "Suspensão", "cancellation": "Cancelamento",
    # cart abandonment steps, Blinket tickets
    "payment-sent": "Pagamento enviado", "payment_failed": "Pagamento recusado",
    "pending": "Pendente", "active": "Ativo",
}  # fmt: skip


def payment_method(value: Any) -> str:
    """bankslip -> "Boleto", creditCard -> "Cartão de crédito" ...; other values unchanged."""
    text = _text(value)
    return PAYMENT_METHODS.get(text.lower(), text)


def status_pt(value: Any) -> str:
    """Invoice / contract / chargeback status -> Portuguese label; other values unchanged."""
    text = _text(value)
    return STATUSES.get(text.lower(), text)


def _http_url(url: Any) -> str:
    text = _text(url).strip()
    ok = re.fullmatch(r"https?://[^\s/?#]+\S*", text, re.IGNORECASE) and len(text) <= 2000
    return text if ok else ""


def slack_link(url: Any, text: Any = None) -> SlackText:
    """A safe Slack ``<url|text>`` link; not an http(s) URL -> just the (escaped) text."""
    label = slack_escape(_text(url if text is None else text))
    href = _http_url(url)
    return SlackText(f"<{slack_escape(href).replace('|', '%7C')}|{label}>" if href else label)


def safe_url(url: Any) -> str:
    """The URL if it is http(s), else "" (for ``href`` attributes)."""
    return _http_url(url)


def clip(value: Any, length: int = 200) -> str:
    """At most ``length`` characters, "…" when cut; None -> ""."""
    text = _text(value)
    if len(text) > length:
        text = text[: max(length - 1, 0)]
        amp = text.rfind("&") if isinstance(value, Markup) else -1
        if amp != -1 and ";" not in text[amp:]:  # escaped HTML: never cut inside an entity
            text = text[:amp]
        text = text.rstrip() + "…"
    return type(value)(text) if isinstance(value, (Markup, SlackText)) else text


def flatten(value: Any) -> dict[str, Any]:
    """A mapping flattened one level: {"buyer": {"name": "A"}} -> {"buyer.name": "A"}."""
    out: dict[str, Any] = {}
    for key, item in (value.items() if isinstance(value, Mapping) else ()):
        if isinstance(item, Mapping) and item:
            out.update({f"{key}.{sub}": inner for sub, inner in item.items()})
        else:
            out[str(key)] = item
    return out


def as_list(value: Any) -> list[Any]:
    """A list of the mapping items in ``value`` ([] for null, text, numbers): payloads vary."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


FILTERS = {
    "as_list": as_list,
    "brl": brl, "number": number, "percent": percent, "mask_email": mask_email,
    "mask_document": mask_document, "mask_phone": mask_phone,
    "payment_method": payment_method, "status_pt": status_pt, "slack_link": slack_link,
    "safe_url": safe_url, "clip": clip, "flatten": flatten,
}  # fmt: skip
