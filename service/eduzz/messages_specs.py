"""What Ponte's built-in message says for each of the 63 Eduzz events (FACTS §5, Appendix A).

One ``Spec`` per event: an emoji and a headline (literal text), the ``summary`` (Jinja
expressions joined into the one-line text), the ``fields`` shown as label/value pairs,
``ids`` (Eduzz ids for the footer) and an optional ``link``. A field value is a Jinja
expression over the render context (``data.buyer.name``), or a template snippet when it
needs a loop (it then contains ``{{`` or ``{%``). Missing values show as "—".
Payloads vary: expressions tolerate both documented and real-traffic shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

Field = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Spec:
    emoji: str
    headline: str
    summary: tuple[str, ...]
    fields: tuple[Field, ...]
    ids: tuple[Field, ...] = ()
    link: Field | None = None


def _email(path: str) -> Field:
    return ("E-mail", f"{path} | mask_email")


# --- MyEduzz: invoices (one schema, base = invoice_paid) ----------------------------

PRODUCTS = "data['items'] | map(attribute='name') | join(', ')"
BUYER = ("Comprador", "data.buyer.name")
PRICE = ("Valor", "data.price | brl")
PAID = ("Valor pago", "(data.paid or data.price) | brl")
METHOD = ("Pagamento", "(data.paymentMethod or data.payment.method) | payment_method")
INSTALLMENTS = ("Parcelas", "data.installments ~ 'x' if data.installments")
OFFER = ("Oferta", "data.offer.name")
COUPON = ("Cupom", "data['items'] | map(attribute='coupon.key') | select | unique | join(', ')")
AFFILIATE = ("Afiliado", "data.affiliate.name")
DUE = ("Vencimento", "data.dueDate | date")
RECOVERY = ("Link de recuperação", "data.saleRecoveryUrl")
BANKSLIP = ("Boleto", "data.bankslipUrl or data.billetUrl")


def _invoice(emoji: str, headline: str, *extra: Field, value: Field = PRICE,
             link: Field | None = None) -> Spec:  # fmt: skip
    fields = (BUYER, _email("data.buyer.email"), ("Produtos", PRODUCTS), value, METHOD,
              INSTALLMENTS, *extra, ("Fatura", "data.id"))  # fmt: skip
    summary = ("data.buyer.name", PRODUCTS, value[1])
    return Spec(emoji, headline, summary, fields, (("Fatura", "data.id"),), link)


REFUND_VALUE = ("Valor reembolsado", "(data.refund if data.refund.value is defined else "
                "(data.paid or data.price)) | brl")  # fmt: skip
INVOICES = {
    "myeduzz.invoice_paid": _invoice("💰", "Venda aprovada", OFFER, COUPON, AFFILIATE, value=PAID),
    "myeduzz.invoice_opened": _invoice("🧾", "Nova fatura aberta", DUE, OFFER, link=RECOVERY),
    "myeduzz.invoice_waiting_payment": _invoice("⏳", "Fatura aguardando pagamento", DUE, OFFER,
                                                link=BANKSLIP),
    "myeduzz.invoice_canceled": _invoice("❌", "Fatura cancelada", DUE, OFFER),
    "myeduzz.invoice_expired": _invoice("⌛", "Fatura expirada", DUE, OFFER, link=RECOVERY),
    "myeduzz.invoice_scheduled": _invoice("📅", "Fatura agendada", DUE, OFFER),
    "myeduzz.invoice_negotiated": _invoice("🤝", "Fatura negociada", DUE, OFFER, value=PAID),
    "myeduzz.invoice_recovering": _invoice(
        "🔁", "Fatura em recuperação", ("Recuperação desde", "data.startRecoveringAt | datetime"),
        link=RECOVERY),
    "myeduzz.invoice_refunded": _invoice(
        "↩️", "Venda reembolsada", ("Motivo", "data.refund.reason"),
        ("Reembolsado por", "data.refund.refundBy"),
        ("Reembolsado em", "(data.refund.refundedAt or data.refundedAt) | datetime"),
        value=REFUND_VALUE),
    "myeduzz.invoice_waiting_refund": _invoice(
        "⏳", "Reembolso solicitado", ("Motivo", "data.refund.reason"), value=PAID),
    "myeduzz.invoice_chargeback": _invoice(
        "⚠️", "Chargeback recebido", ("Contestação", "data.chargeback.status | status_pt"),
        ("Prazo para documentos", "data.chargeback.limitDate | datetime"), value=PAID),
}  # fmt: skip

# --- MyEduzz: subscriptions (contracts) and commissions -----------------------------

CUSTOMER = ("Cliente", "data.customer.name")
CONTRACT_ID = ("Assinatura", "data.contract.id")
CONTRACT_FIELDS = (
    CUSTOMER, _email("data.customer.email"),
    ("Produto", "data.products | map(attribute='name') | join(', ')"),
    ("Plano", "data.products | map(attribute='plan.name') | select | join(', ')"),
    ("Valor", "(data.contract.recurrence.price or (data.products | first).price) | brl"),
    ("Pagamento", "data.contract.payment.method | payment_method"),
    ("Status", "data.contract.status | status_pt"),
    ("Próxima cobrança", "data.contract.recurrence.nextDue | date"),
)  # fmt: skip
CONTRACT_SUMMARY = ("data.customer.name", "data.products | map(attribute='name') | join(', ')",
                    "data.contract.status | status_pt")  # fmt: skip


def _attempt(emoji: str, means: str) -> Spec:
    fields = (
        CUSTOMER, _email("data.customer.email"),
        ("Resultado", "data.invoice.status | status_pt"),
        ("Forma de pagamento", "data.invoice.payment.method | payment_method"),
        ("Motivo da recusa", "data.invoice.failReasonMessage or data.invoice.failReason"),
        ("Vencimento", "data.invoice.dueDate | date"),
        ("Tentativa em", "data.invoice.attemptDate | datetime"),
        ("Assinatura", "data.contract.status | status_pt"),
        ("Fatura", "data.invoice.id"), CONTRACT_ID,
    )  # fmt: skip
    summary = ("data.customer.name", "data.invoice.status | status_pt",
               "data.invoice.failReasonMessage or data.invoice.failReason")  # fmt: skip
    ids = (("Assinatura", "data.contract.id"), ("Fatura", "data.invoice.id"))
    return Spec(emoji, f"Cobrança de assinatura via {means}", summary, fields, ids)


def _commissions(key: str) -> str:
    return (f"{{% for p in data.commissions.{key} %}}{{{{ p.name }}}}: "
            "{{ (p.commission or p) | brl }}{{ ', ' if not loop.last }}{% endfor %}")  # fmt: skip


PRODUCER_CUT = "(data.commissions.producer.commission or data.commissions.producer) | brl"
CONTRACTS = {
    "myeduzz.contract_created": Spec(
        "📝", "Nova assinatura", CONTRACT_SUMMARY,
        (*CONTRACT_FIELDS, ("Cobranças", "data.contract.recurrence.charges.current ~ ' de ' ~ "
                            "data.contract.recurrence.charges.total if "
                            "data.contract.recurrence.charges"), CONTRACT_ID),
        (("Assinatura", "data.contract.id"),)),
    "myeduzz.contract_updated": Spec(
        "🔄", "Assinatura atualizada", (*CONTRACT_SUMMARY, "data.reason | status_pt"),
        (*CONTRACT_FIELDS[:2], ("Motivo", "data.reason | status_pt"), *CONTRACT_FIELDS[2:],
         CONTRACT_ID), (("Assinatura", "data.contract.id"),)),
    "myeduzz.contract_card_attempted": _attempt("💳", "cartão"),
    "myeduzz.contract_bankslip_attempted": _attempt("🧾", "boleto"),
    "myeduzz.contract_pix_attempted": _attempt("💠", "Pix"),
    "myeduzz.contract_eduzz_balance_attempted": _attempt("🏦", "saldo Eduzz"),
    "myeduzz.commission_processed": Spec(
        "💸", "Comissão processada",
        ("data.commissions.producer.name", PRODUCER_CUT, "'venda de ' ~ (data.price | brl)"),
        (("Fatura", "data.invoiceId"), ("Valor da venda", "data.price | brl"),
         ("Produtor", "data.commissions.producer.name"), ("Comissão do produtor", PRODUCER_CUT),
         ("Coprodutores", _commissions("coproducers")), ("Afiliados", _commissions("affiliates")),
         ("Processada em", "data.createdAt | datetime")),
        (("Fatura", "data.invoiceId"),)),
}  # fmt: skip
