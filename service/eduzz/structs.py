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


class Money(Lenient):
    """``{"currency": "BRL", "value": 301.5}`` (a decimal amount, not cents)."""

    currency: str | None = None
    value: Number | None = None


class Person(Lenient):
    """Someone with an id, a name and an e-mail (producer, customer, affiliate)."""

    id: Id | None = None
    name: str | None = None
    email: str | None = None


class Named(Lenient):
    """Someone known only by name and e-mail (Nutror producer and learner)."""

    name: str | None = None
    email: str | None = None


# --- AlpaClass ---------------------------------------------------------------------


class AlpaRef(Lenient):
    """An AlpaClass course, module, lesson or team (school)."""

    id: Id | None = None
    name: str | None = None


class AlpaStudent(Person):
    """The student as sent with every AlpaClass event."""


class AlpaNewStudent(AlpaStudent):
    """The student as sent with ``student_created``."""

    document: Id | None = None
    phone: str | None = None
    created_at: str | None = None
    locale: str | None = None


class AlpaStudentCreated(Lenient):
    """``alpaclass.student_created``."""

    student: AlpaNewStudent | None = None
    team: AlpaRef | None = None


class AlpaCourseEvent(Lenient):
    """AlpaClass course events (finished, unfinished, last seen)."""

    student: AlpaStudent | None = None
    course: AlpaRef | None = None
    team: AlpaRef | None = None


class AlpaCertificateAccessed(AlpaCourseEvent):
    """``alpaclass.student_certificate_accessed``."""

    certificate_url: str | None = None


class AlpaModuleEvent(AlpaCourseEvent):
    """AlpaClass module events (finished, unfinished)."""

    module: AlpaRef | None = None


class AlpaLessonEvent(AlpaModuleEvent):
    """AlpaClass lesson events (last seen, marked/unmarked as favourite)."""

    lesson: AlpaRef | None = None


class AlpaLessonProgress(AlpaLessonEvent):
    """AlpaClass lesson (un)finished: with the student's progress in the course."""

    progress: Number | None = None


class AlpaCommentCreated(AlpaLessonEvent):
    """``alpaclass.student_comment_created``: the comment is a plain string."""

    comment: str | None = None


# --- Blinket -----------------------------------------------------------------------


class BlinketEvent(Lenient):
    """The Blinket event (the happening, not the webhook)."""

    id: Id | None = None
    name: str | None = None
    type: str | None = None


class Tag(Lenient):
    id: Id | None = None
    title: str | None = None
    color: str | None = None


class Document(Lenient):
    type: str | None = None
    number: Id | None = None


class BaseParticipant(Lenient):
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


class Participant(BaseParticipant):
    document: Document | None = None
    assigned: bool | None = None
    check_in_at: str | None = None


class LinkedParticipant(Participant):
    """A participant with a check-in link (attendance_added, attendances_printed)."""

    check_in_link: str | None = None


class Batch(Lenient):
    content_id: Id | None = None
    name: str | None = None
    price: Money | None = None


class SaleBatch(Batch):
    quantity: Number | None = None
    start_sales_at: str | None = None
    end_sales_at: str | None = None


class TicketRef(Lenient):
    name: str | None = None
    is_paid: bool | None = None


class Ticket(TicketRef):
    show_on_event_page: bool | None = None
    is_unlimited: bool | None = None
    buy_limit: Number | None = None
    buy_minimum: Number | None = None
    batches: list[SaleBatch] | None = None


class BlinketBuyer(Person):
    phone: str | None = None


class BlinketBase(Lenient):
    """What every Blinket event carries."""

    producer: Person | None = None
    event: BlinketEvent | None = None
    created_at: str | None = None


class AttendanceCanceled(BlinketBase):
    """``blinket.attendance_canceled``: the participant without document/check-in."""

    participant: BaseParticipant | None = None


class Attendance(BlinketBase):
    """Blinket attendance events (checkin, assigned, edited, tag_changed)."""

    participant: Participant | None = None


class AttendanceAdded(Attendance):
    """``blinket.attendance_added``: with ticket, batch and buyer."""

    participant: LinkedParticipant | None = None
    ticket: TicketRef | None = None
    batch: Batch | None = None
    buyer: BlinketBuyer | None = None


class AttendancesPrinted(BlinketBase):
    """``blinket.attendances_printed``: a list of participants."""

    participants: list[LinkedParticipant] | None = None


class TicketEdited(BlinketBase):
    """``blinket.ticket_edited``."""

    tickets: list[Ticket] | None = None


# --- MyEduzz: commission ------------------------------------------------------------


class Commissioner(Lenient):
    """A commission: flat ``{id,name,currency,value}`` (example) or nested (REF, real traffic)."""

    id: Id | None = None
    name: str | None = None
    currency: str | None = None
    value: Number | None = None
    commission: Money | None = None


class Commissions(Lenient):
    producer: Commissioner | None = None
    coproducers: list[Commissioner] | None = None
    affiliates: list[Commissioner] | None = None


class CommissionProcessed(Lenient):
    """``myeduzz.commission_processed``."""

    invoice_id: Id | None = None
    created_at: str | None = None
    price: Money | None = None
    commissions: Commissions | None = None


# --- MyEduzz: contracts (subscriptions) ---------------------------------------------


class Phone(Lenient):
    country_code: str | None = None
    area_code: str | None = None
    number: str | None = None


class Contact(Lenient):
    name: str | None = None
    email: str | None = None
    phone: Phone | None = None


class Plan(Lenient):
    id: Id | None = None
    name: str | None = None


class ContractProduct(Lenient):
    id: Id | None = None
    name: str | None = None
    deliveries: list[str] | None = None
    plan: Plan | None = None
    price: Money | None = None
    membership_fee: Money | None = None


class Frequency(Lenient):
    type: str | None = None
    value: Number | None = None


class Charges(Lenient):
    total: Number | None = None
    current: Number | None = None


class Recurrence(Lenient):
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


class ContentAccess(Lenient):
    remove_on_contract_end: bool | None = None
    remove_on_late_payment: bool | None = None


class PaymentMethod(Lenient):
    method: str | None = None


class ContractPayment(PaymentMethod):
    total_of_installments: Number | None = None


class ContractBase(Lenient):
    id: Id | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Contract(ContractBase):
    payment: ContractPayment | None = None
    trial_days: Number | None = None
    content_access: ContentAccess | None = None
    is_unlimited_installments: bool | None = None
    recurrence: Recurrence | None = None


class SentInData(Lenient):
    """Events whose docs (or example) put ``sentDate`` inside ``data``."""

    sent_date: str | None = None


class ContractCreated(SentInData):
    """``myeduzz.contract_created``."""

    producer: Person | None = None
    products: list[ContractProduct] | None = None
    contract: Contract | None = None
    customer: Contact | None = None
    financial_responsible: Contact | None = None


class ContractUpdated(ContractCreated):
    """``myeduzz.contract_updated``: ``contract_created`` plus the ``reason``."""

    reason: str | None = None


class BankSlip(Lenient):
    url: str | None = None
    barcode: str | None = None


class Pix(Lenient):
    base64_code: str | None = None
    qr_code: str | None = None


class CardPayment(PaymentMethod):
    installments: Number | None = None


class BankslipPayment(PaymentMethod):
    bank_slip: BankSlip | None = None


class PixPayment(PaymentMethod):
    pix: Pix | None = None


class AttemptContract(ContractBase):
    payment: PaymentMethod | None = None


class CardContract(AttemptContract):
    payment: CardPayment | None = None


class AttemptInvoice(Lenient):
    """The invoice of a contract payment attempt (payment method as in the docs)."""

    id: Id | None = None
    payment: PaymentMethod | None = None
    is_negotiation: bool | None = None
    status: str | None = None
    due_date: str | None = None
    attempt_date: str | None = None


class BankslipInvoice(AttemptInvoice):
    payment: BankslipPayment | None = None


class PixInvoice(AttemptInvoice):
    payment: PixPayment | None = None


class FailableInvoice(AttemptInvoice):
    """Card and Eduzz-balance attempts, which can fail with a reason."""

    fail_reason: str | None = None
    fail_reason_message: str | None = None


class CardInvoice(FailableInvoice):
    payment: CardPayment | None = None


class ContractAttempt(SentInData):
    """``myeduzz.contract_eduzz_balance_attempted`` and base of the other attempts."""

    producer: Person | None = None
    invoice: FailableInvoice | None = None
    contract: AttemptContract | None = None
    customer: Person | None = None


class BankslipAttempt(ContractAttempt):
    invoice: BankslipInvoice | None = None


class PixAttempt(ContractAttempt):
    invoice: PixInvoice | None = None


class CardAttempt(ContractAttempt):
    invoice: CardInvoice | None = None
    contract: CardContract | None = None


# --- MyEduzz: invoices --------------------------------------------------------------


class Address(Lenient):
    street: str | None = None
    number: str | None = None
    neighborhood: str | None = None
    complement: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    zip_code: str | None = None


class Student(Person):
    document: Id | None = None
    phone: str | None = None
    phone2: str | None = None
    cellphone: str | None = None


class Buyer(Student):
    address: Address | None = None


class InvoiceProducer(Person):
    origin_secret: str | None = None


class Offer(Lenient):
    name: str | None = None


class Utm(Lenient):
    source: str | None = None
    campaign: str | None = None
    medium: str | None = None
    content: str | None = None
    term: str | None = None


class Tracker(Lenient):
    code1: str | None = None
    code2: str | None = None
    code3: str | None = None


class OrderBump(Lenient):
    has: bool | None = None
    is_main_sale: bool | None = None
    main_sale_id: Id | None = None


class RefundPeriod(Lenient):
    duration_type: str | None = None
    value: Number | None = None


class Coupon(Lenient):
    id: Id | None = None
    key: str | None = None
    discount: Money | None = None


class ItemPrice(Money):
    """An item's price; one official example nests the ``coupon`` in here."""

    coupon: Coupon | None = None


class Item(Lenient):
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


class BankSlipInstallment(Lenient):
    installment_number: Number | None = None
    total_installments: Number | None = None


class InvoiceContract(Lenient):
    id: Id | None = None
    is_unlimited_installments: bool | None = None


class Payment(Lenient):
    method: str | None = None
    details: str | None = None


class Transaction(Lenient):
    id: Id | None = None
    key: str | None = None


class Chargeback(Lenient):
    status: str | None = None
    created_at: str | None = None
    limit_date: str | None = None
    finished_at: str | None = None


class Gains(Lenient):
    producer: Money | None = None
    coproducer: Money | None = None
    affiliate: Money | None = None


class Fees(Lenient):
    eduzz: Money | None = None
    recovery: Money | None = None
    alumy: Money | None = None
    total: Money | None = None


class Refund(Lenient):
    type: str | None = None
    created_at: str | None = None
    refunded_at: str | None = None
    currency: str | None = None
    value: Number | None = None
    reason: str | None = None
    refund_by: str | None = None


class InvoiceCore(Lenient):
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


class Invoice(InvoiceCore):
    """An invoice with its checkout/bank-slip links (all but ``invoice_chargeback``)."""

    barcode: str | None = None
    billet_url: str | None = None
    checkout_url: str | None = None
    bankslip_url: str | None = None


class InvoicePending(Invoice):
    """Unpaid invoices: canceled, expired, scheduled, waiting_payment."""

    postback: str | None = None


class InvoiceOpened(InvoicePending):
    """``myeduzz.invoice_opened``."""

    sale_recovery_url: str | None = None


class InvoiceRecovering(InvoiceOpened):
    """``myeduzz.invoice_recovering``."""

    start_recovering_at: str | None = None


class SettledCore(InvoiceCore):
    """What a paid invoice adds: amount paid, affiliate, transaction, student."""

    paid: Money | None = None
    affiliate: Person | None = None
    paid_at: str | None = None
    transaction: Transaction | None = None
    student: Student | None = None


class InvoiceChargeback(SettledCore):
    """``myeduzz.invoice_chargeback``: no links; its example puts ``sentDate`` in ``data``."""

    chargeback: Chargeback | None = None
    sent_date: str | None = None


class InvoiceSettled(SettledCore):
    """``myeduzz.invoice_negotiated`` and base of the other paid invoices."""

    barcode: str | None = None
    billet_url: str | None = None
    checkout_url: str | None = None
    bankslip_url: str | None = None


class InvoicePaid(InvoiceSettled):
    """``myeduzz.invoice_paid``."""

    chargeback: Chargeback | None = None


class InvoiceWithEarnings(InvoiceSettled):
    """Paid invoices on their way back: with gains and fees."""

    gains: Gains | None = None
    fees: Fees | None = None


class InvoiceWaitingRefund(InvoiceWithEarnings):
    """``myeduzz.invoice_waiting_refund``."""

    chargeback: Chargeback | None = None


class InvoiceRefunded(InvoiceWithEarnings):
    """``myeduzz.invoice_refunded``."""

    refunded_at: str | None = None
    refund: Refund | None = None


# --- Nutror ------------------------------------------------------------------------


class Course(Lenient):
    hash: str | None = None
    title: str | None = None


class ProgressCourse(Course):
    progress: Number | None = None


class InactiveCourse(Course):
    inactive_days: Number | None = None


class Titled(Lenient):
    """A Nutror lesson or module."""

    id: Id | None = None
    title: str | None = None


class RatedLesson(Titled):
    rating: Number | None = None


class Comment(Lenient):
    id: Id | None = None
    text: str | None = None


class Reply(Comment):
    parent_id: Id | None = None


class NutrorBase(Lenient):
    """What every Nutror event carries."""

    producer: Named | None = None
    learner: Named | None = None
    created_at: str | None = None


class NutrorCourseEvent(NutrorBase):
    """Nutror course events (certificate/community viewed, learner help)."""

    course: Course | None = None


class InactiveStudent(NutrorBase):
    """``nutror.inactive_student``."""

    course: InactiveCourse | None = None


class EnrollmentCreated(NutrorBase):
    """``nutror.enrollment_created``."""

    content: Course | None = None
    courses: list[Course] | None = None


class NutrorLessonEvent(NutrorCourseEvent):
    """Nutror lesson events (started, saved, file downloaded, notation created)."""

    lesson: Titled | None = None


class LessonWatched(NutrorLessonEvent):
    """``nutror.lesson_watched``: with the course progress."""

    course: ProgressCourse | None = None


class LessonRated(NutrorLessonEvent):
    """``nutror.lesson_rated``."""

    lesson: RatedLesson | None = None


class ModuleCompleted(NutrorLessonEvent):
    """``nutror.module_completed``."""

    module: Titled | None = None


class CommentCreated(NutrorLessonEvent):
    """``nutror.comment_created``."""

    comment: Comment | None = None


class CommentReply(NutrorLessonEvent):
    """``nutror.comment_replied`` and ``comment_deleted``: with ``parentId``."""

    comment: Reply | None = None


# --- SafeVideo ---------------------------------------------------------------------


class Encoder(Lenient):
    """SafeVideo encoder events (waiting, started, finished)."""

    filename: str | None = None


class EncoderError(Encoder):
    status_error: str | None = None


class Upload(Lenient):
    """SafeVideo upload events (started, finished, canceled)."""

    filename: str | None = None
    format: str | None = None
    type: str | None = None


class UploadError(Upload):
    error: str | None = None


# --- Sun ---------------------------------------------------------------------------


class CartCustomer(Lenient):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class CartTracker(Lenient):
    utm_campaign: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_content: str | None = None


class CartAbandonment(Lenient):
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
