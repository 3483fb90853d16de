"""The Eduzz event catalogue: the 63 current events, their data types and their paths.

``CATALOGUE`` maps a full event name (``myeduzz.invoice_paid``) to its EventSpec. It is
built once at import from ``events.tsv`` (labels) and ``service.eduzz.structs`` (types).
``EventSpec.paths`` holds every dotted path the envelope can have for the event, derived
from the Struct types: ``*`` stands for a list index (``data.items.*.productId``) and a
trailing ``.**`` marks a free-form map (anything below ``data.participant.customFields``).

Lookups take the full name; turn Eduzz's unprefixed names (``contract_created``) into
full ones first with ``normalize_event_name``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi

from service.eduzz import structs as s

HERE = Path(__file__).parent
ANY_INDEX = "*"
FREE_FORM = "**"
ENVELOPE_FIELDS = ("id", "event", "sentDate", "data")

_DATA_TYPES: dict[str, type[s.Lenient]] = {
    "alpaclass.student_certificate_accessed": s.AlpaCertificateAccessed,
    "alpaclass.student_comment_created": s.AlpaCommentCreated,
    "alpaclass.student_course_finished": s.AlpaCourseEvent,
    "alpaclass.student_course_last_seen": s.AlpaCourseEvent,
    "alpaclass.student_course_unfinished": s.AlpaCourseEvent,
    "alpaclass.student_created": s.AlpaStudentCreated,
    "alpaclass.student_lesson_finished": s.AlpaLessonProgress,
    "alpaclass.student_lesson_last_seen": s.AlpaLessonEvent,
    "alpaclass.student_lesson_marked_as_favorite": s.AlpaLessonEvent,
    "alpaclass.student_lesson_unfinished": s.AlpaLessonProgress,
    "alpaclass.student_lesson_unmarked_as_favorite": s.AlpaLessonEvent,
    "alpaclass.student_module_finished": s.AlpaModuleEvent,
    "alpaclass.student_module_unfinished": s.AlpaModuleEvent,
    "blinket.attendance_added": s.AttendanceAdded,
    "blinket.attendance_assigned": s.Attendance,
    "blinket.attendance_canceled": s.AttendanceCanceled,
    "blinket.attendance_checkin": s.Attendance,
    "blinket.attendance_edited": s.Attendance,
    "blinket.attendance_tag_changed": s.Attendance,
    "blinket.attendances_printed": s.AttendancesPrinted,
    "blinket.ticket_edited": s.TicketEdited,
    "myeduzz.commission_processed": s.CommissionProcessed,
    "myeduzz.contract_bankslip_attempted": s.BankslipAttempt,
    "myeduzz.contract_card_attempted": s.CardAttempt,
    "myeduzz.contract_created": s.ContractCreated,
    "myeduzz.contract_eduzz_balance_attempted": s.ContractAttempt,
    "myeduzz.contract_pix_attempted": s.PixAttempt,
    "myeduzz.contract_updated": s.ContractUpdated,
    "myeduzz.invoice_canceled": s.InvoicePending,
    "myeduzz.invoice_chargeback": s.InvoiceChargeback,
    "myeduzz.invoice_expired": s.InvoicePending,
    "myeduzz.invoice_negotiated": s.InvoiceSettled,
    "myeduzz.invoice_opened": s.InvoiceOpened,
    "myeduzz.invoice_paid": s.InvoicePaid,
    "myeduzz.invoice_recovering": s.InvoiceRecovering,
    "myeduzz.invoice_refunded": s.InvoiceRefunded,
    "myeduzz.invoice_scheduled": s.InvoicePending,
    "myeduzz.invoice_waiting_payment": s.InvoicePending,
    "myeduzz.invoice_waiting_refund": s.InvoiceWaitingRefund,
    "nutror.certificate_viewed": s.NutrorCourseEvent,
    "nutror.comment_created": s.CommentCreated,
    "nutror.comment_deleted": s.CommentReply,
    "nutror.comment_replied": s.CommentReply,
    "nutror.community_viewed": s.NutrorCourseEvent,
    "nutror.enrollment_created": s.EnrollmentCreated,
    "nutror.file_downloaded": s.NutrorLessonEvent,
    "nutror.inactive_student": s.InactiveStudent,
    "nutror.learner_help": s.NutrorCourseEvent,
    "nutror.lesson_rated": s.LessonRated,
    "nutror.lesson_saved": s.NutrorLessonEvent,
    "nutror.lesson_started": s.NutrorLessonEvent,
    "nutror.lesson_watched": s.LessonWatched,
    "nutror.module_completed": s.ModuleCompleted,
    "nutror.notation_created": s.NutrorLessonEvent,
    "safevideo.encoder_error": s.EncoderError,
    "safevideo.encoder_finished": s.Encoder,
    "safevideo.encoder_started": s.Encoder,
    "safevideo.encoder_waiting": s.Encoder,
    "safevideo.upload_canceled": s.Upload,
    "safevideo.upload_error": s.UploadError,
    "safevideo.upload_finished": s.Upload,
    "safevideo.upload_started": s.Upload,
    "sun.cart_abandonment": s.CartAbandonment,
}


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One Eduzz event: its names, Portuguese labels, ``data`` type, fixture and paths."""

    name: str
    app: str
    product: str
    group: str
    title: str
    data_type: type[s.Lenient]
    fixture: str
    paths: frozenset[str] = field(repr=False)
    decoder: msgspec.json.Decoder[Any] = field(repr=False, compare=False)


# --- building the registry (once, at import) -----------------------------------------

_NOTE = re.compile(r"\s*\[[^\]]*\]\s*$")


def tsv_rows() -> tuple[dict[str, str], ...]:
    """Every row of ``events.tsv``, current and legacy events alike (read once, at import)."""
    return _ROWS


def _read_tsv(path: Path) -> tuple[dict[str, str], ...]:
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    names = header.split("\t")
    return tuple(dict(zip(names, line.split("\t"), strict=False)) for line in lines if line)


_ROWS = _read_tsv(HERE / "events.tsv")


def _walk(info: mi.Type, path: str, out: set[str]) -> None:
    """Add ``path`` and every path below it that ``info`` allows to ``out``."""
    out.add(path)
    if isinstance(info, mi.StructType):
        for f in info.fields:
            _walk(f.type, f"{path}.{f.encode_name}", out)
    elif isinstance(info, mi.UnionType):
        for member in info.types:
            _walk(member, path, out)
    elif isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        _walk(info.item_type, f"{path}.{ANY_INDEX}", out)
    elif isinstance(info, (mi.DictType, mi.AnyType)):
        out.add(f"{path}.{FREE_FORM}")


def _envelope_paths(info: mi.Type) -> frozenset[str]:
    """Every path of an envelope whose ``data`` has the type ``info``."""
    out = set(ENVELOPE_FIELDS)
    _walk(info, "data", out)
    return frozenset(out)


def _build() -> dict[str, EventSpec]:
    """One EventSpec per event; paths and decoders are made once per data type."""
    rows = {row["event"]: row for row in _ROWS if row.get("has_fixture") == "yes"}  # current events
    types = list(dict.fromkeys(_DATA_TYPES.values()))
    paths = {t: _envelope_paths(i) for t, i in zip(types, mi.multi_type_info(types), strict=True)}
    decoders = {t: msgspec.json.Decoder(t) for t in types}
    return {
        name: _spec(rows[name], type_, paths[type_], decoders[type_])
        for name, type_ in sorted(_DATA_TYPES.items())
    }


def _spec(
    row: dict[str, str], type_: type[s.Lenient], paths: frozenset[str], decoder: Any
) -> EventSpec:
    """The EventSpec of one ``events.tsv`` row (notes in brackets cut from the title)."""
    name = row["event"]
    return EventSpec(
        name=name,
        app=name.partition(".")[0],
        product=row["product"],
        group=row["group"],
        title=_NOTE.sub("", row["title (pt)"]).strip(),
        data_type=type_,
        fixture=f"{name}.json",
        paths=paths,
        decoder=decoder,
    )


def _unprefixed(names: Iterable[str]) -> dict[str, str]:
    """Map each action (``contract_created``) to its full name when only one app has it."""
    by_action: dict[str, list[str]] = {}
    for name in names:
        by_action.setdefault(name.partition(".")[2], []).append(name)
    return {action: full[0] for action, full in by_action.items() if len(full) == 1}


CATALOGUE: dict[str, EventSpec] = _build()
EVENT_NAMES: tuple[str, ...] = tuple(sorted(CATALOGUE))
_UNPREFIXED = _unprefixed(EVENT_NAMES)


# --- lookups -------------------------------------------------------------------------


def spec(event: str) -> EventSpec | None:
    """The EventSpec of a full event name, or None."""
    return CATALOGUE.get(event)


def normalize_event_name(name: str) -> str:
    """``contract_created`` -> ``myeduzz.contract_created`` when unambiguous; else ``name``."""
    return _UNPREFIXED.get(name, name)


def closest_event(name: str, *, also: Iterable[str] = ()) -> str | None:
    """The catalogue event (or one of ``also``) closest to a mistyped name (``invoice_payd``)."""
    candidates = {**{n: n for n in EVENT_NAMES}, **_UNPREFIXED, **{n: n for n in also}}
    found = difflib.get_close_matches(name.strip().lower(), list(candidates), n=1, cutoff=0.6)
    return candidates[found[0]] if found else None


def unknown_event(name: str, *, also: Iterable[str] = ()) -> str:
    """The error for an event name that is not in the catalogue, with the closest one if any."""
    close = closest_event(name, also=also)
    hint = f": did you mean {close}?" if close is not None else ""
    return f"unknown event {name!r}{hint} (docs/events.md lists the 63 names)"


def fixture_path(event: str) -> Path:
    """The official example envelope of ``event``; KeyError for an unknown event."""
    return HERE / "fixtures" / CATALOGUE[event].fixture


def fixture_bytes(event: str) -> bytes:
    """The bytes of the official example envelope of ``event``."""
    return fixture_path(event).read_bytes()


# --- validation ------------------------------------------------------------------------

_AT = re.compile(r" - at `\$([^`]*)`$")
_INDEX = re.compile(r"\[(\d+)\]")


def validate(event: str, data: bytes | msgspec.Raw) -> str | None:
    """Check the JSON of ``data`` against the event's type: None if it fits, else the error."""
    found = CATALOGUE.get(event)
    if found is None:
        return None
    try:
        found.decoder.decode(data)
    except msgspec.ValidationError as exc:
        return _at_data(str(exc))
    except msgspec.DecodeError as exc:
        return f"data is not valid JSON: {exc}"
    except Exception as exc:  # never raise: a caller's bad input is an answer, not a crash
        return f"data cannot be decoded: {exc}"
    return None


def validate_value(event: str, data: Any) -> str | None:
    """Like ``validate`` for an already-decoded ``data`` (no re-encoding): None if it fits."""
    found = CATALOGUE.get(event)
    if found is None:
        return None
    try:
        msgspec.convert(data, found.data_type)
    except msgspec.ValidationError as exc:
        return _at_data(str(exc))
    except Exception as exc:  # never raise: a caller's bad input is an answer, not a crash
        return f"data cannot be decoded: {exc}"
    return None


def _at_data(message: str) -> str:
    """msgspec's ``... - at `$.items[0].price``` as ``... - at `data.items.0.price```."""
    match = _AT.search(message)
    if match is None:
        return f"{message} - at `data`"
    path = _INDEX.sub(r".\1", match[1])
    return f"{message[: match.start()]} - at `data{path}`"


# --- paths ---------------------------------------------------------------------------


def _segments(dotted: str) -> list[str]:
    """``data.items.0.productId`` as ``["data", "items", "*", "productId"]``."""
    return [ANY_INDEX if seg.isascii() and seg.isdigit() else seg for seg in dotted.split(".")]


def _covered(paths: frozenset[str], segments: list[str]) -> bool:
    if ".".join(segments) in paths:
        return True
    return any(".".join([*segments[:i], FREE_FORM]) in paths for i in range(1, len(segments)))


def path_exists(event: str, dotted: str) -> bool | None:
    """Whether ``dotted`` (numbers index lists) can exist in the event; None if unknown."""
    found = CATALOGUE.get(event)
    return None if found is None else _covered(found.paths, _segments(dotted))


def suggest(event: str, dotted: str) -> str | None:
    """The existing path closest to ``dotted`` (for "did you mean"), or None."""
    found = CATALOGUE.get(event)
    if found is None:
        return None
    choices = sorted(p for p in found.paths if not p.endswith(FREE_FORM))
    match = difflib.get_close_matches(".".join(_segments(dotted)), choices, n=1)
    return _with_indexes(match[0], dotted.split(".")) if match else None


def _with_indexes(path: str, asked: list[str]) -> str:
    """Put the caller's list indexes back: ``data.items.*.productId`` -> ``...items.0...``."""
    parts = path.split(".")
    if len(parts) != len(asked):
        return path
    pairs = zip(parts, asked, strict=True)
    return ".".join(a if p == ANY_INDEX and a.isdigit() else p for p, a in pairs)
