"""Built-in pt-BR messages for Hotmart and Kiwify events, written once over ``sale.*``.

Every platform's sale looks the same (``service.sales``), so one set of fields serves
both: buyer, masked e-mail/phone/document, product, amount (``R$ 1.234,56``), payment
method and order id. The headline says what happened.
"""

from __future__ import annotations

from service.render.builtin.specs import Spec

ORDER = ("Pedido", "sale.order_id")
FIELDS = (
    ("Comprador", "sale.buyer.name"),
    ("E-mail", "sale.buyer.email | mask_email"),
    ("Telefone", "sale.buyer.phone | mask_phone"),
    ("Documento", "sale.buyer.document | mask_document"),
    ("Produto", "sale.product"),
    ("Valor", "sale.total | brl"),
    ("Pagamento", "sale.payment_method | payment_method"),
    ORDER,
)
SUMMARY = ("sale.buyer.name", "sale.product", "sale.total | brl")


def _sale(emoji: str, headline: str) -> Spec:
    return Spec(emoji, headline, SUMMARY, FIELDS, (ORDER,))


HEADLINES = {
    "hotmart.purchase_approved": ("💰", "Venda aprovada na Hotmart"),
    "hotmart.purchase_complete": ("✅", "Compra concluída na Hotmart (garantia encerrada)"),
    "hotmart.purchase_canceled": ("❌", "Compra recusada na Hotmart"),
    "hotmart.purchase_billet_printed": ("🧾", "Boleto gerado na Hotmart"),
    "hotmart.purchase_delayed": ("⏰", "Pagamento atrasado na Hotmart"),
    "hotmart.purchase_protest": ("⚠️", "Pedido de reembolso na Hotmart"),
    "hotmart.purchase_refunded": ("↩️", "Compra reembolsada na Hotmart"),
    "hotmart.purchase_chargeback": ("🚨", "Chargeback na Hotmart"),
    "hotmart.purchase_expired": ("⌛", "Compra expirada na Hotmart"),
    "hotmart.purchase_out_of_shopping_cart": ("🛒", "Carrinho abandonado na Hotmart"),
    "hotmart.subscription_cancellation": ("🚫", "Assinatura cancelada na Hotmart"),
    "kiwify.order_approved": ("💰", "Venda aprovada na Kiwify"),
    "kiwify.order_refunded": ("↩️", "Compra reembolsada na Kiwify"),
    "kiwify.chargeback": ("🚨", "Chargeback na Kiwify"),
    "kiwify.billet_created": ("🧾", "Boleto gerado na Kiwify"),
    "kiwify.pix_created": ("🔳", "Pix gerado na Kiwify"),
    "kiwify.order_rejected": ("❌", "Compra recusada na Kiwify"),
    "kiwify.subscription_canceled": ("🚫", "Assinatura cancelada na Kiwify"),
    "kiwify.subscription_late": ("⏰", "Assinatura atrasada na Kiwify"),
    "kiwify.subscription_renewed": ("🔁", "Assinatura renovada na Kiwify"),
    "kiwify.abandoned_cart": ("🛒", "Carrinho abandonado na Kiwify"),
}  # fmt: skip
SALE_SPECS = {event: _sale(emoji, headline) for event, (emoji, headline) in HEADLINES.items()}
