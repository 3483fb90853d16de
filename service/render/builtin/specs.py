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

PRODUCTS = "data['items'] | as_list | map(attribute='name') | join(', ')"
BUYER = ("Comprador", "data.buyer.name")
PRICE = ("Valor", "data.price | brl")
PAID = ("Valor pago", "(data.paid or data.price) | brl")
METHOD = ("Pagamento", "(data.paymentMethod or data.payment.method) | payment_method")
INSTALLMENTS = ("Parcelas", "data.installments ~ 'x' if data.installments")
OFFER = ("Oferta", "data.offer.name")
COUPON = ("Cupom", "data['items'] | as_list | map(attribute='coupon.key') | select | map('string') "
                   "| unique | join(', ')")
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
    "myeduzz.invoice_negotiated": _invoice("🤝", "Fatura negociada", PAID, DUE, OFFER),
    "myeduzz.invoice_recovering": _invoice(
        "🔁", "Fatura em recuperação", ("Recuperação desde", "data.startRecoveringAt | datetime"),
        link=RECOVERY),
    "myeduzz.invoice_refunded": _invoice(
        "↩️", "Venda reembolsada", ("Motivo", "data.refund.reason"),
        ("Reembolsado por", "data.refund.refundBy"),
        ("Reembolsado em", "(data.refund.refundedAt or data.refundedAt) | datetime"),
        value=REFUND_VALUE),
    "myeduzz.invoice_waiting_refund": _invoice(
        "⏳", "Reembolso solicitado", ("Motivo", "data.refund.reason"),
        ("Pago em", "data.paidAt | datetime"), value=PAID),
    "myeduzz.invoice_chargeback": _invoice(
        "⚠️", "Chargeback recebido", ("Contestação", "data.chargeback.status | status_pt"),
        ("Prazo para documentos", "data.chargeback.limitDate | datetime"), value=PAID),
}  # fmt: skip

# --- MyEduzz: subscriptions (contracts) and commissions -----------------------------

CUSTOMER = ("Cliente", "data.customer.name")
CONTRACT_ID = ("Assinatura", "data.contract.id")
CONTRACT_FIELDS = (
    CUSTOMER, _email("data.customer.email"),
    ("Produto", "data.products | as_list | map(attribute='name') | join(', ')"),
    ("Plano", "data.products | as_list | map(attribute='plan.name') | select | join(', ')"),
    ("Valor", "(data.contract.recurrence.price or (data.products | as_list | first).price) | brl"),
    ("Pagamento", "data.contract.payment.method | payment_method"),
    ("Status", "data.contract.status | status_pt"),
    ("Próxima cobrança", "data.contract.recurrence.nextDue | date"),
)  # fmt: skip
CONTRACT_SUMMARY = ("data.customer.name", "data.products | as_list | map(attribute='name') | join(', ')",
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
    return (f"{{% for p in data.commissions.{key} | as_list %}}{{{{ p.name }}}}: "
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
        ("data.commissions.producer.name", PRODUCER_CUT,
         "('venda de ' ~ (data.price | brl)) if data.price"),
        (("Fatura", "data.invoiceId"), ("Valor da venda", "data.price | brl"),
         ("Produtor", "data.commissions.producer.name"), ("Comissão do produtor", PRODUCER_CUT),
         ("Coprodutores", _commissions("coproducers")), ("Afiliados", _commissions("affiliates")),
         ("Processada em", "data.createdAt | datetime")),
        (("Fatura", "data.invoiceId"),)),
}  # fmt: skip

# --- Blinket (events and tickets) ---------------------------------------------------

PARTICIPANT = ("Participante", "data.participant.name")
EVENT = ("Evento", "data.event.name")
TICKET_STATUS = ("Status", "data.participant.status | status_pt")
INVITE = ("Nº do ingresso", "data.participant.inviteKey")
TAGS = ("Marcadores", "data.participant.tags | as_list | map(attribute='title') | map('trim') | join(', ')")
ATTENDEE = (PARTICIPANT, _email("data.participant.email"), EVENT, TICKET_STATUS, INVITE)
BLINKET_IDS = (("Evento", "data.event.id"), ("Participante", "data.participant.id"))


def _attendance(emoji: str, headline: str, *extra: Field) -> Spec:
    summary = ("data.participant.name", "data.event.name")
    return Spec(emoji, headline, summary, (*ATTENDEE, *extra), BLINKET_IDS)


BATCHES = ("{% for t in data.tickets | as_list %}{% for b in t.batches | as_list %}{{ t.name }} / {{ b.name }}: "
           "{{ b.price | brl }}{{ ', ' if not loop.last }}{% endfor %}"
           "{{ '; ' if not loop.last }}{% endfor %}")  # fmt: skip
BLINKET = {
    "blinket.attendance_added": _attendance(
        "🎟️", "Novo participante no evento", ("Ingresso", "data.ticket.name"),
        ("Lote", "data.batch.name"), ("Valor", "data.batch.price | brl"),
        ("Comprador", "data.buyer.name"), TAGS),
    "blinket.attendance_assigned": _attendance("👤", "Ingresso atribuído a um participante", TAGS),
    "blinket.attendance_canceled": _attendance("🚫", "Ingresso cancelado"),
    "blinket.attendance_checkin": _attendance(
        "✅", "Check-in realizado",
        ("Check-in em", "data.participant.checkInAt | datetime if data.participant.checkInAt "
                        "else 'desfeito'")),
    "blinket.attendance_edited": _attendance("✏️", "Participante editado", TAGS),
    "blinket.attendance_tag_changed": _attendance("🏷️", "Marcadores do participante alterados",
                                                  TAGS),
    "blinket.attendances_printed": Spec(
        "🖨️", "Ingressos impressos",
        ("data.event.name", "(data.participants | as_list | length) ~ ' ingresso(s)'"),
        (EVENT, ("Quantidade", "data.participants | as_list | length"),
         ("Participantes", "data.participants | as_list | map(attribute='name') | join(', ')"),
         ("Produtor", "data.producer.name")), (("Evento", "data.event.id"),)),
    "blinket.ticket_edited": Spec(
        "🎫", "Ingresso editado",
        ("data.event.name", "data.tickets | as_list | map(attribute='name') | join(', ')"),
        (EVENT, ("Ingressos", "data.tickets | as_list | map(attribute='name') | join(', ')"),
         ("Lotes", BATCHES), ("Produtor", "data.producer.name")), (("Evento", "data.event.id"),)),
}  # fmt: skip

# --- AlpaClass (school) -------------------------------------------------------------

STUDENT = ("Aluno", "data.student.name")
COURSE = ("Curso", "data.course.name")
MODULE = ("Módulo", "data.module.name")
LESSON = ("Aula", "data.lesson.name")
SCHOOL = ("Escola", "data.team.name")
PROGRESS = ("Progresso no curso", "data.progress | percent")
ALPA_IDS = (("Aluno", "data.student.id"), ("Curso", "data.course.id"))


def _alpa(emoji: str, headline: str, *fields: Field, about: str = "data.course.name",
          link: Field | None = None) -> Spec:  # fmt: skip
    fields = (STUDENT, _email("data.student.email"), *fields)
    progress = "(data.progress | percent) ~ ' do curso' if data.progress is number"
    summary = ("data.student.name", about, progress)
    return Spec(emoji, headline, summary, fields, ALPA_IDS, link)


COURSE_FIELDS = (COURSE, SCHOOL)
LESSON_FIELDS = (COURSE, MODULE, LESSON, SCHOOL)
ALPACLASS = {
    "alpaclass.student_certificate_accessed": _alpa(
        "🎓", "Aluno acessou o certificado", COURSE, SCHOOL,
        link=("Ver certificado", "data.certificateUrl")),
    "alpaclass.student_comment_created": _alpa(
        "💬", "Aluno comentou em uma aula", *LESSON_FIELDS, ("Comentário", "data.comment"),
        about="data.comment"),
    "alpaclass.student_course_finished": _alpa("🏆", "Aluno finalizou o curso", *COURSE_FIELDS),
    "alpaclass.student_course_last_seen": _alpa("👀", "Último acesso do aluno ao curso",
                                                *COURSE_FIELDS),
    "alpaclass.student_course_unfinished": _alpa(
        "↩️", "Aluno desmarcou a finalização do curso", *COURSE_FIELDS),
    "alpaclass.student_created": Spec(
        "🆕", "Novo aluno na escola", ("data.student.name", "data.team.name"),
        (STUDENT, _email("data.student.email"), ("Telefone", "data.student.phone | mask_phone"),
         ("Documento", "data.student.document | mask_document"), SCHOOL,
         ("Cadastrado em", "data.student.createdAt | datetime"),
         ("Idioma", "data.student.locale")), (("Aluno", "data.student.id"),)),
    "alpaclass.student_lesson_finished": _alpa(
        "✅", "Aluno concluiu uma aula", *LESSON_FIELDS, PROGRESS, about="data.lesson.name"),
    "alpaclass.student_lesson_last_seen": _alpa(
        "👀", "Último acesso do aluno a uma aula", *LESSON_FIELDS, about="data.lesson.name"),
    "alpaclass.student_lesson_marked_as_favorite": _alpa(
        "⭐", "Aluno favoritou uma aula", *LESSON_FIELDS, about="data.lesson.name"),
    "alpaclass.student_lesson_unfinished": _alpa(
        "↩️", "Aluno desmarcou uma aula como concluída", *LESSON_FIELDS, PROGRESS,
        about="data.lesson.name"),
    "alpaclass.student_lesson_unmarked_as_favorite": _alpa(
        "💔", "Aluno desfavoritou uma aula", *LESSON_FIELDS, about="data.lesson.name"),
    "alpaclass.student_module_finished": _alpa(
        "📘", "Aluno finalizou um módulo", COURSE, MODULE, SCHOOL, about="data.module.name"),
    "alpaclass.student_module_unfinished": _alpa(
        "↩️", "Aluno desmarcou um módulo como finalizado", COURSE, MODULE, SCHOOL,
        about="data.module.name"),
}  # fmt: skip

# --- Nutror (courses) ---------------------------------------------------------------

N_COURSE = ("Curso", "data.course.title")
N_LESSON = ("Aula", "data.lesson.title")
N_PRODUCER = ("Produtor", "data.producer.name")
N_WHEN = ("Data", "data.createdAt | datetime")
N_IDS = (("Curso", "data.course.hash"),)


def _nutror(emoji: str, headline: str, *fields: Field, about: str = "data.course.title") -> Spec:
    fields = (("Aluno", "data.learner.name"), _email("data.learner.email"), *fields, N_WHEN)
    return Spec(emoji, headline, ("data.learner.name", about), fields, N_IDS)


COMMENT = ("Comentário", "data.comment.text")
NUTROR = {
    "nutror.certificate_viewed": _nutror("🎓", "Certificado visualizado", N_COURSE, N_PRODUCER),
    "nutror.comment_created": _nutror("💬", "Novo comentário na aula", N_COURSE, N_LESSON,
                                      COMMENT, about="data.comment.text"),
    "nutror.comment_deleted": _nutror("🗑️", "Comentário excluído", N_COURSE, N_LESSON, COMMENT,
                                      about="data.comment.text"),
    "nutror.comment_replied": _nutror("↪️", "Comentário respondido", N_COURSE, N_LESSON,
                                      COMMENT, about="data.comment.text"),
    "nutror.community_viewed": _nutror("👥", "Comunidade visualizada", N_COURSE, N_PRODUCER),
    "nutror.enrollment_created": _nutror(
        "🆕", "Nova matrícula", ("Conteúdo", "data.content.title"),
        ("Cursos", "data.courses | as_list | map(attribute='title') | join(', ')"), N_PRODUCER,
        about="data.content.title"),
    "nutror.file_downloaded": _nutror("📥", "Aluno baixou um arquivo", N_COURSE, N_LESSON),
    "nutror.inactive_student": _nutror(
        "😴", "Aluno inativo", N_COURSE, ("Dias sem acessar", "data.course.inactiveDays"),
        N_PRODUCER),
    "nutror.learner_help": _nutror("🆘", "Aluno pediu ajuda", N_COURSE, N_PRODUCER),
    "nutror.lesson_rated": _nutror("⭐", "Aula avaliada", N_COURSE, N_LESSON,
                                   ("Nota", "data.lesson.rating"), about="data.lesson.title"),
    "nutror.lesson_saved": _nutror("🔖", "Aula salva", N_COURSE, N_LESSON,
                                   about="data.lesson.title"),
    "nutror.lesson_started": _nutror("▶️", "Aula iniciada", N_COURSE, N_LESSON,
                                     about="data.lesson.title"),
    "nutror.lesson_watched": _nutror(
        "✅", "Aula finalizada", N_COURSE, N_LESSON,
        ("Progresso no curso", "data.course.progress | percent"), about="data.lesson.title"),
    "nutror.module_completed": _nutror(
        "📘", "Módulo finalizado", N_COURSE, ("Módulo", "data.module.title"),
        ("Última aula", "data.lesson.title"), about="data.module.title"),
    "nutror.notation_created": _nutror("📝", "Nova anotação", N_COURSE, N_LESSON,
                                       about="data.lesson.title"),
}  # fmt: skip

# --- SafeVideo (media) and Sun (checkout) -------------------------------------------

FILE = ("Arquivo", "data.filename")
UPLOAD = (FILE, ("Formato", "data.format"), ("Tipo", "data.type"))


def _video(emoji: str, headline: str, *fields: Field, error: str = "") -> Spec:
    summary = ("data.filename", error) if error else ("data.filename",)
    return Spec(emoji, headline, summary, fields)


SAFEVIDEO = {
    "safevideo.encoder_waiting": _video("⏳", "Arquivo aguardando processamento", FILE),
    "safevideo.encoder_started": _video("⚙️", "Processamento do arquivo iniciado", FILE),
    "safevideo.encoder_finished": _video("✅", "Processamento do arquivo concluído", FILE),
    "safevideo.encoder_error": _video("🚨", "Erro no processamento do arquivo", FILE,
                                      ("Erro", "data.statusError"), error="data.statusError"),
    "safevideo.upload_started": _video("⬆️", "Upload de arquivo iniciado", *UPLOAD),
    "safevideo.upload_finished": _video("✅", "Upload de arquivo concluído", *UPLOAD),
    "safevideo.upload_canceled": _video("🚫", "Upload de arquivo cancelado", *UPLOAD),
    "safevideo.upload_error": _video("🚨", "Erro no upload do arquivo", *UPLOAD,
                                     ("Erro", "data.error"), error="data.error"),
}  # fmt: skip

PRODUCT_IDS = ("data.productId | join(', ') if data.productId is sequence and "
               "data.productId is not string else data.productId")  # fmt: skip
SUN = {
    "sun.cart_abandonment": Spec(
        "🛒", "Carrinho abandonado", ("data.customer.name", "data.lastStep | status_pt"),
        (("Cliente", "data.customer.name"), _email("data.customer.email"),
         ("Telefone", "data.customer.phone | mask_phone"), ("Produtos", PRODUCT_IDS),
         ("Pagamento", "data.paymentMethod | payment_method"),
         ("Última etapa", "data.lastStep | status_pt"),
         ("Campanha", "data.tracker.utmCampaign or data.utm.campaign"),
         ("Origem", "data.tracker.utmSource or data.utm.source"),
         ("Atualizado em", "data.updatedAt | datetime")),
        (("Transação", "data.transactionId"), ("Produtor", "data.producerId")),
        ("Link de recuperação", "data.saleRecoveryUrl or data.href")),
}  # fmt: skip

SPECS: dict[str, Spec] = {**ALPACLASS, **BLINKET, **INVOICES, **CONTRACTS, **NUTROR,
                          **SAFEVIDEO, **SUN}  # fmt: skip
