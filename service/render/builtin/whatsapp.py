"""Built-in messages for the whatsapp and google_sheets sinks (the whatsapp and google_sheets formats).

whatsapp -> ``{"text"}``: free text in WhatsApp's own markup (``*bold*`` labels), the
same facts as the Slack message, at most 4,096 characters; payload text is made inert by
the whatsapp template kind (``service.whatsapp_format``). Personal data stays masked:
WhatsApp groups and team phones are shared channels.

google_sheets -> ``{"columns": [{header, value}]}``: the same columns for every event,
so one sheet can take them all: date (local time), event, buyer, e-mail, product, value,
payment method, status, event id. The e-mail is NOT masked: a spreadsheet is private to
the team that shares it with the service account (see docs/channels-whatsapp-sheets.md).
The date is ``2024-01-20 12:00:00`` (local time; the sink sends it for Sheets to store a
real date). The value is a number (``301.5``), so the sheet can sum it; the header says
"(R$)". Refunds and chargebacks take money back: their value is negative, so the sum of
the column is revenue.
Where the event is a sale (``sale.*``, every platform), buyer, e-mail, value, payment
method and status come from it, so Hotmart and Kiwify rows fill the same columns as Eduzz.
"""

from __future__ import annotations

from typing import Any

from service.render.builtin import parts
from service.render.builtin.parts import GENERIC_LINES, Builders
from service.render.builtin.specs import Spec
from service.render.whatsapp_format import TEXT_LIMIT

WHEN_SECONDS = "{{ (sentDate or data.sentDate or received_at) | datetime('%Y-%m-%d %H:%M:%S') }}"
PERSON = ("sale.buyer.name or data.buyer.name or data.customer.name or data.student.name or data.participant.name "
          "or data.learner.name or data.user.name")  # fmt: skip
EMAIL = ("sale.buyer.email or data.buyer.email or data.customer.email or data.student.email or data.participant.email "
         "or data.learner.email or data.user.email")  # fmt: skip
PRODUCT = (
    "(data['items'] | as_list | map(attribute='name') | join(', ')) "
    "or (data.products | as_list | map(attribute='name') | join(', ')) "
    "or sale.product or data.product.name or data.course.name or data.course.title "
    "or data.event.name"
)
AMOUNT = ("(sale.amount if sale.amount is number else "
          "(data.paid or data.price or data.value or data.contract.recurrence.price).value)")
REFUNDED = "(data.refund if data.refund.value is defined else (data.paid or data.price)).value"
TAKEN_BACK = "(event.endswith('invoice_chargeback') or sale.status in ('refunded', 'chargeback'))"
VALUE = ("{{ (0 - (" + REFUNDED + ")) if event.endswith('invoice_refunded') and (" + REFUNDED
         + ") is number else (0 - " + AMOUNT + ") if " + TAKEN_BACK + " and " + AMOUNT
         + " is number else " + AMOUNT + " }}")  # fmt: skip
METHOD = "(sale.payment_method or data.paymentMethod or data.payment.method) | payment_method"
STATUS = ("(data.status or data.contract.status or data.participant.status or sale.status) "
          "| status_pt")  # fmt: skip


def _clipped(text: str, limit: int = TEXT_LIMIT) -> str:
    return f"{{% filter clip({limit}) %}}{text}{{% endfilter %}}"


def whatsapp(spec: Spec) -> dict[str, Any]:
    """Free text: bold headline, summary, one ``*Label:* value`` line per field, link, footer."""
    lines = "\n".join(f"*{label}:* {parts.value(e)}" for label, e in spec.fields)
    link = f"\n\n{parts.link(spec.link, slack=False)}" if spec.link else ""
    footer = parts.footer(spec.ids, code=False)
    head = f"*{spec.emoji} {spec.headline}*\n{parts.summary(spec)}"
    text = f"{head}\n\n{lines}{link}\n\n{footer}"
    return {"text": _clipped(text)}


def generic_whatsapp(title: str) -> dict[str, Any]:
    """An event without a spec: its name, title and first data fields."""
    intro = f"\n_{title}_" if title else ""
    head = "*📨 Evento {{ event | clip(100) }}*"
    body = parts.lines(GENERIC_LINES, 100, key="*", key_end=":*")
    return {"text": _clipped(f"{head}{intro}\n\n{body}\n\n{parts.footer((), code=False)}")}


def _out(expression: str) -> str:
    return f"{{{{ {expression} }}}}"


def _columns(event_title: str) -> dict[str, Any]:
    cells = [("Data", WHEN_SECONDS), ("Evento", event_title), ("Comprador", _out(PERSON)),
             ("E-mail", _out(EMAIL)), ("Produto", _out(PRODUCT)), ("Valor (R$)", VALUE),
             ("Pagamento", _out(METHOD)), ("Status", _out(STATUS)),
             ("ID do evento", "{{ id or ('ponte-' ~ event_id) }}")]  # fmt: skip
    return {"columns": [{"header": h, "value": v} for h, v in cells]}


def sheets(spec: Spec) -> dict[str, Any]:
    """The default columns; "Evento" is the Portuguese headline (``Venda aprovada``)."""
    return _columns(spec.headline)


def generic_sheets(title: str) -> dict[str, Any]:
    """The default columns for an event without a spec."""
    return _columns(title.replace("{", "") or "{{ event }}")


WHATSAPP = Builders(whatsapp, generic_whatsapp)
SHEETS = Builders(sheets, generic_sheets)
