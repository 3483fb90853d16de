"""Typed, lenient msgspec Structs for the ``data`` object of every Eduzz event.

Eduzz's docs and examples disagree with each other and with real traffic (FACTS §1, §5),
so every Struct here is lenient where Eduzz is: every field may be missing or null,
ID-like fields take a string or a number, unknown keys are ignored, dates stay strings
and money is ``{currency, value}``. Types are still checked: a string where a number
belongs, or a list where an object belongs, is an error.

Families share Structs through inheritance (one base per family, a subclass per
variation), so the 63 events map onto a few dozen small classes.
"""

from __future__ import annotations

from typing import Any

import msgspec

Id = str | int
"""Eduzz sends the same ids as strings in some payloads and numbers in others."""

Number = float | int
"""A JSON number; ints stay ints."""


class Lenient(msgspec.Struct, kw_only=True, frozen=True, rename="camel"):
    """Base of every Eduzz Struct: camelCase keys, unknown keys ignored."""


# --- shared pieces -----------------------------------------------------------------


class Money(Lenient, frozen=True):
    """``{"currency": "BRL", "value": 301.5}`` (a decimal amount, not cents)."""

    currency: str | None = None
    value: Number | None = None


class Person(Lenient, frozen=True):
    """Someone with an id, a name and an e-mail (producer, customer, affiliate)."""

    id: Id | None = None
    name: str | None = None
    email: str | None = None


class Named(Lenient, frozen=True):
    """Someone known only by name and e-mail (Nutror producer and learner)."""

    name: str | None = None
    email: str | None = None


# --- AlpaClass ---------------------------------------------------------------------


class AlpaRef(Lenient, frozen=True):
    """An AlpaClass course, module, lesson or team (school)."""

    id: Id | None = None
    name: str | None = None


class AlpaStudent(Person, frozen=True):
    """The student as sent with every AlpaClass event."""


class AlpaNewStudent(AlpaStudent, frozen=True):
    """The student as sent with ``student_created``."""

    document: Id | None = None
    phone: str | None = None
    created_at: str | None = None
    locale: str | None = None


class AlpaStudentCreated(Lenient, frozen=True):
    """``alpaclass.student_created``."""

    student: AlpaNewStudent | None = None
    team: AlpaRef | None = None


class AlpaCourseEvent(Lenient, frozen=True):
    """AlpaClass course events (finished, unfinished, last seen)."""

    student: AlpaStudent | None = None
    course: AlpaRef | None = None
    team: AlpaRef | None = None


class AlpaCertificateAccessed(AlpaCourseEvent, frozen=True):
    """``alpaclass.student_certificate_accessed``."""

    certificate_url: str | None = None


class AlpaModuleEvent(AlpaCourseEvent, frozen=True):
    """AlpaClass module events (finished, unfinished)."""

    module: AlpaRef | None = None


class AlpaLessonEvent(AlpaModuleEvent, frozen=True):
    """AlpaClass lesson events (last seen, marked/unmarked as favourite)."""

    lesson: AlpaRef | None = None


class AlpaLessonProgress(AlpaLessonEvent, frozen=True):
    """AlpaClass lesson (un)finished: with the student's progress in the course."""

    progress: Number | None = None


class AlpaCommentCreated(AlpaLessonEvent, frozen=True):
    """``alpaclass.student_comment_created``: the comment is a plain string."""

    comment: str | None = None


# --- Blinket -----------------------------------------------------------------------


class BlinketEvent(Lenient, frozen=True):
    """The Blinket event (the happening, not the webhook)."""

    id: Id | None = None
    name: str | None = None
    type: str | None = None


class Tag(Lenient, frozen=True):
    id: Id | None = None
    title: str | None = None
    color: str | None = None


class Document(Lenient, frozen=True):
    type: str | None = None
    number: Id | None = None


class BaseParticipant(Lenient, frozen=True):
    """A ticket holder; ``customFields`` is a free-form map (docs say ``{key,value}``)."""

    id: Id | None = None
    invite_key: Id | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    status: str | None = None
    manually_created: bool | None = None
    tags: list[Tag] | None = None
    custom_fields: dict[str, Any] | None = None


class Participant(BaseParticipant, frozen=True):
    document: Document | None = None
    assigned: bool | None = None
    check_in_at: str | None = None


class LinkedParticipant(Participant, frozen=True):
    """A participant with a check-in link (attendance_added, attendances_printed)."""

    check_in_link: str | None = None


class Batch(Lenient, frozen=True):
    content_id: Id | None = None
    name: str | None = None
    price: Money | None = None


class SaleBatch(Batch, frozen=True):
    quantity: Number | None = None
    start_sales_at: str | None = None
    end_sales_at: str | None = None


class TicketRef(Lenient, frozen=True):
    name: str | None = None
    is_paid: bool | None = None


class Ticket(TicketRef, frozen=True):
    show_on_event_page: bool | None = None
    is_unlimited: bool | None = None
    buy_limit: Number | None = None
    buy_minimum: Number | None = None
    batches: list[SaleBatch] | None = None


class BlinketBuyer(Person, frozen=True):
    phone: str | None = None


class BlinketBase(Lenient, frozen=True):
    """What every Blinket event carries."""

    producer: Person | None = None
    event: BlinketEvent | None = None
    created_at: str | None = None


class AttendanceCanceled(BlinketBase, frozen=True):
    """``blinket.attendance_canceled``: the participant without document/check-in."""

    participant: BaseParticipant | None = None


class Attendance(BlinketBase, frozen=True):
    """Blinket attendance events (checkin, assigned, edited, tag_changed)."""

    participant: Participant | None = None


class AttendanceAdded(Attendance, frozen=True):
    """``blinket.attendance_added``: with ticket, batch and buyer."""

    participant: LinkedParticipant | None = None
    ticket: TicketRef | None = None
    batch: Batch | None = None
    buyer: BlinketBuyer | None = None


class AttendancesPrinted(BlinketBase, frozen=True):
    """``blinket.attendances_printed``: a list of participants."""

    participants: list[LinkedParticipant] | None = None


class TicketEdited(BlinketBase, frozen=True):
    """``blinket.ticket_edited``."""

    tickets: list[Ticket] | None = None


# --- MyEduzz: commission ------------------------------------------------------------


class Commissioner(Lenient, frozen=True):
    """A commission: flat ``{id,name,currency,value}`` (example) or nested (REF, real traffic)."""

    id: Id | None = None
    name: str | None = None
    currency: str | None = None
    value: Number | None = None
    commission: Money | None = None


class Commissions(Lenient, frozen=True):
    producer: Commissioner | None = None
    coproducers: list[Commissioner] | None = None
    affiliates: list[Commissioner] | None = None


class CommissionProcessed(Lenient, frozen=True):
    """``myeduzz.commission_processed``."""

    invoice_id: Id | None = None
    created_at: str | None = None
    price: Money | None = None
    commissions: Commissions | None = None


# --- MyEduzz: contracts (subscriptions) ---------------------------------------------


class Phone(Lenient, frozen=True):
    country_code: str | None = None
    area_code: str | None = None
    number: str | None = None


class Contact(Lenient, frozen=True):
    name: str | None = None
    email: str | None = None
    phone: Phone | None = None


class Plan(Lenient, frozen=True):
    id: Id | None = None
    name: str | None = None


class ContractProduct(Lenient, frozen=True):
    id: Id | None = None
    name: str | None = None
    deliveries: list[str] | None = None
    plan: Plan | None = None
    price: Money | None = None
    membership_fee: Money | None = None


class Frequency(Lenient, frozen=True):
    type: str | None = None
    value: Number | None = None


class Charges(Lenient, frozen=True):
    total: Number | None = None
    current: Number | None = None


class Recurrence(Lenient, frozen=True):
    """``finalDue`` per the docs, ``lastDue`` per the examples: both accepted."""

    starts_at: str | None = None
    next_due: str | None = None
    current_due: str | None = None
    final_due: str | None = None
    last_due: str | None = None
    finishes_at: str | None = None
    frequency: Frequency | None = None
    charges: Charges | None = None
    is_finite: bool | None = None
    price: Money | None = None


class ContentAccess(Lenient, frozen=True):
    remove_on_contract_end: bool | None = None
    remove_on_late_payment: bool | None = None


class PaymentMethod(Lenient, frozen=True):
    method: str | None = None


class ContractPayment(PaymentMethod, frozen=True):
    total_of_installments: Number | None = None


class ContractBase(Lenient, frozen=True):
    id: Id | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Contract(ContractBase, frozen=True):
    payment: ContractPayment | None = None
    trial_days: Number | None = None
    content_access: ContentAccess | None = None
    is_unlimited_installments: bool | None = None
    recurrence: Recurrence | None = None


class SentInData(Lenient, frozen=True):
    """Events whose docs (or example) put ``sentDate`` inside ``data``."""

    sent_date: str | None = None


class ContractCreated(SentInData, frozen=True):
    """``myeduzz.contract_created``."""

    producer: Person | None = None
    products: list[ContractProduct] | None = None
    contract: Contract | None = None
    customer: Contact | None = None
    financial_responsible: Contact | None = None


class ContractUpdated(ContractCreated, frozen=True):
    """``myeduzz.contract_updated``: ``contract_created`` plus the ``reason``."""

    reason: str | None = None


class BankSlip(Lenient, frozen=True):
    url: str | None = None
    barcode: str | None = None


class Pix(Lenient, frozen=True):
    base64_code: str | None = None
    qr_code: str | None = None


class CardPayment(PaymentMethod, frozen=True):
    installments: Number | None = None


class BankslipPayment(PaymentMethod, frozen=True):
    bank_slip: BankSlip | None = None


class PixPayment(PaymentMethod, frozen=True):
    pix: Pix | None = None


class AttemptContract(ContractBase, frozen=True):
    payment: PaymentMethod | None = None


class CardContract(AttemptContract, frozen=True):
    payment: CardPayment | None = None


class AttemptInvoice(Lenient, frozen=True):
    """The invoice of a contract payment attempt (payment method as in the docs)."""

    id: Id | None = None
    payment: PaymentMethod | None = None
    is_negotiation: bool | None = None
    status: str | None = None
    due_date: str | None = None
    attempt_date: str | None = None


class BankslipInvoice(AttemptInvoice, frozen=True):
    payment: BankslipPayment | None = None


class PixInvoice(AttemptInvoice, frozen=True):
    payment: PixPayment | None = None


class FailableInvoice(AttemptInvoice, frozen=True):
    """Card and Eduzz-balance attempts, which can fail with a reason."""

    fail_reason: str | None = None
    fail_reason_message: str | None = None


class CardInvoice(FailableInvoice, frozen=True):
    payment: CardPayment | None = None


class ContractAttempt(SentInData, frozen=True):
    """``myeduzz.contract_eduzz_balance_attempted`` and base of the other attempts."""

    producer: Person | None = None
    invoice: FailableInvoice | None = None
    contract: AttemptContract | None = None
    customer: Person | None = None


class BankslipAttempt(ContractAttempt, frozen=True):
    # a sibling of FailableInvoice, not a subtype: the attempt kinds refine the base's field
    invoice: BankslipInvoice | None = None  # type: ignore[assignment]


class PixAttempt(ContractAttempt, frozen=True):
    invoice: PixInvoice | None = None  # type: ignore[assignment]


class CardAttempt(ContractAttempt, frozen=True):
    invoice: CardInvoice | None = None
    contract: CardContract | None = None


# --- MyEduzz: invoices --------------------------------------------------------------


class Address(Lenient, frozen=True):
    street: str | None = None
    number: str | None = None
    neighborhood: str | None = None
    complement: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    zip_code: str | None = None


class Student(Person, frozen=True):
    document: Id | None = None
    phone: str | None = None
    phone2: str | None = None
    cellphone: str | None = None


class Buyer(Student, frozen=True):
    address: Address | None = None


class InvoiceProducer(Person, frozen=True):
    origin_secret: str | None = None


class Offer(Lenient, frozen=True):
    name: str | None = None


class Utm(Lenient, frozen=True):
    source: str | None = None
    campaign: str | None = None
    medium: str | None = None
    content: str | None = None
    term: str | None = None


class Tracker(Lenient, frozen=True):
    code1: str | None = None
    code2: str | None = None
    code3: str | None = None


class OrderBump(Lenient, frozen=True):
    has: bool | None = None
    is_main_sale: bool | None = None
    main_sale_id: Id | None = None


class RefundPeriod(Lenient, frozen=True):
    duration_type: str | None = None
    value: Number | None = None


class Coupon(Lenient, frozen=True):
    id: Id | None = None
    key: str | None = None
    discount: Money | None = None


class ItemPrice(Money, frozen=True):
    """An item's price; one official example nests the ``coupon`` in here."""

    coupon: Coupon | None = None


class Item(Lenient, frozen=True):
    """An invoice item; ``billingType`` is free text (examples send ``"Única"``)."""

    product_id: Id | None = None
    name: str | None = None
    parent_id: Id | None = None
    refund_period: RefundPeriod | None = None
    price: ItemPrice | None = None
    coupon: Coupon | None = None
    partner_id: Id | None = None
    billing_type: str | None = None
    sku_reference: str | None = None


class BankSlipInstallment(Lenient, frozen=True):
    installment_number: Number | None = None
    total_installments: Number | None = None


class InvoiceContract(Lenient, frozen=True):
    id: Id | None = None
    is_unlimited_installments: bool | None = None


class Payment(Lenient, frozen=True):
    method: str | None = None
    details: str | None = None


class Transaction(Lenient, frozen=True):
    id: Id | None = None
    key: str | None = None


class Chargeback(Lenient, frozen=True):
    status: str | None = None
    created_at: str | None = None
    limit_date: str | None = None
    finished_at: str | None = None


class Gains(Lenient, frozen=True):
    producer: Money | None = None
    coproducer: Money | None = None
    affiliate: Money | None = None


class Fees(Lenient, frozen=True):
    eduzz: Money | None = None
    recovery: Money | None = None
    alumy: Money | None = None
    total: Money | None = None


class Refund(Lenient, frozen=True):
    type: str | None = None
    created_at: str | None = None
    refunded_at: str | None = None
    currency: str | None = None
    value: Number | None = None
    reason: str | None = None
    refund_by: str | None = None


class InvoiceCore(Lenient, frozen=True):
    """The fields every invoice event has (base of the family)."""

    id: Id | None = None
    status: str | None = None
    buyer: Buyer | None = None
    producer: InvoiceProducer | None = None
    offer: Offer | None = None
    utm: Utm | None = None
    tracker: Tracker | None = None
    created_at: str | None = None
    due_date: str | None = None
    price: Money | None = None
    order_bump: OrderBump | None = None
    installments: Number | None = None
    items: list[Item] | None = None
    total_items: Number | None = None
    payment_method: str | None = None
    bank_slip_installment: BankSlipInstallment | None = None
    contract: InvoiceContract | None = None
    payment: Payment | None = None


class Invoice(InvoiceCore, frozen=True):
    """An invoice with its checkout/bank-slip links (all but ``invoice_chargeback``)."""

    barcode: str | None = None
    billet_url: str | None = None
    checkout_url: str | None = None
    bankslip_url: str | None = None


class InvoicePending(Invoice, frozen=True):
    """Unpaid invoices: canceled, expired, scheduled, waiting_payment."""

    postback: str | None = None


class InvoiceOpened(InvoicePending, frozen=True):
    """``myeduzz.invoice_opened``."""

    sale_recovery_url: str | None = None


class InvoiceRecovering(InvoiceOpened, frozen=True):
    """``myeduzz.invoice_recovering``."""

    start_recovering_at: str | None = None


class SettledCore(InvoiceCore, frozen=True):
    """What a paid invoice adds: amount paid, affiliate, transaction, student."""

    paid: Money | None = None
    affiliate: Person | None = None
    paid_at: str | None = None
    transaction: Transaction | None = None
    student: Student | None = None


class InvoiceChargeback(SettledCore, frozen=True):
    """``myeduzz.invoice_chargeback``: no links; its example puts ``sentDate`` in ``data``."""

    chargeback: Chargeback | None = None
    sent_date: str | None = None


class InvoiceSettled(SettledCore, frozen=True):
    """``myeduzz.invoice_negotiated`` and base of the other paid invoices."""

    barcode: str | None = None
    billet_url: str | None = None
    checkout_url: str | None = None
    bankslip_url: str | None = None


class InvoicePaid(InvoiceSettled, frozen=True):
    """``myeduzz.invoice_paid``."""

    chargeback: Chargeback | None = None


class InvoiceWithEarnings(InvoiceSettled, frozen=True):
    """Paid invoices on their way back: with gains and fees."""

    gains: Gains | None = None
    fees: Fees | None = None


class InvoiceWaitingRefund(InvoiceWithEarnings, frozen=True):
    """``myeduzz.invoice_waiting_refund``."""

    chargeback: Chargeback | None = None


class InvoiceRefunded(InvoiceWithEarnings, frozen=True):
    """``myeduzz.invoice_refunded``."""

    refunded_at: str | None = None
    refund: Refund | None = None


# --- Nutror ------------------------------------------------------------------------


class Course(Lenient, frozen=True):
    hash: str | None = None
    title: str | None = None


class ProgressCourse(Course, frozen=True):
    progress: Number | None = None


class InactiveCourse(Course, frozen=True):
    inactive_days: Number | None = None


class Titled(Lenient, frozen=True):
    """A Nutror lesson or module."""

    id: Id | None = None
    title: str | None = None


class RatedLesson(Titled, frozen=True):
    rating: Number | None = None


class Comment(Lenient, frozen=True):
    id: Id | None = None
    text: str | None = None


class Reply(Comment, frozen=True):
    parent_id: Id | None = None


class NutrorBase(Lenient, frozen=True):
    """What every Nutror event carries."""

    producer: Named | None = None
    learner: Named | None = None
    created_at: str | None = None


class NutrorCourseEvent(NutrorBase, frozen=True):
    """Nutror course events (certificate/community viewed, learner help)."""

    course: Course | None = None


class InactiveStudent(NutrorBase, frozen=True):
    """``nutror.inactive_student``."""

    course: InactiveCourse | None = None


class EnrollmentCreated(NutrorBase, frozen=True):
    """``nutror.enrollment_created``."""

    content: Course | None = None
    courses: list[Course] | None = None


class NutrorLessonEvent(NutrorCourseEvent, frozen=True):
    """Nutror lesson events (started, saved, file downloaded, notation created)."""

    lesson: Titled | None = None


class LessonWatched(NutrorLessonEvent, frozen=True):
    """``nutror.lesson_watched``: with the course progress."""

    course: ProgressCourse | None = None


class LessonRated(NutrorLessonEvent, frozen=True):
    """``nutror.lesson_rated``."""

    lesson: RatedLesson | None = None


class ModuleCompleted(NutrorLessonEvent, frozen=True):
    """``nutror.module_completed``."""

    module: Titled | None = None


class CommentCreated(NutrorLessonEvent, frozen=True):
    """``nutror.comment_created``."""

    comment: Comment | None = None


class CommentReply(NutrorLessonEvent, frozen=True):
    """``nutror.comment_replied`` and ``comment_deleted``: with ``parentId``."""

    comment: Reply | None = None


# --- SafeVideo ---------------------------------------------------------------------


class Encoder(Lenient, frozen=True):
    """SafeVideo encoder events (waiting, started, finished)."""

    filename: str | None = None


class EncoderError(Encoder, frozen=True):
    status_error: str | None = None


class Upload(Lenient, frozen=True):
    """SafeVideo upload events (started, finished, canceled)."""

    filename: str | None = None
    format: str | None = None
    type: str | None = None


class UploadError(Upload, frozen=True):
    error: str | None = None


# --- Sun ---------------------------------------------------------------------------


class CartCustomer(Lenient, frozen=True):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class CartTracker(Lenient, frozen=True):
    utm_campaign: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_content: str | None = None


class CartAbandonment(Lenient, frozen=True):
    """``sun.cart_abandonment``; real traffic also sent ``saleRecoveryUrl``."""

    transaction_id: Id | None = None
    customer: CartCustomer | None = None
    product_id: list[Id] | None = None
    tracker: CartTracker | None = None
    last_step: str | None = None
    payment_method: str | None = None
    producer_id: Id | None = None
    href: str | None = None
    updated_at: str | None = None
    sale_recovery_url: str | None = None
