"""The Eduzz event catalogue: types, paths, name normalisation and validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.eduzz import catalogue, structs
from service.eduzz.catalogue import (
    CATALOGUE,
    EVENT_NAMES,
    FREE_FORM,
    fixture_bytes,
    fixture_path,
    normalize_event_name,
    path_exists,
    spec,
    suggest,
    validate,
)

EDUZZ_DIR = Path(catalogue.__file__).parent
PAID = "myeduzz.invoice_paid"


def _envelope(event: str) -> dict[str, msgspec.Raw]:
    return msgspec.json.decode(fixture_bytes(event), type=dict[str, msgspec.Raw])


def _leaves(node: Any, path: str) -> list[str]:
    """Every leaf path of a JSON value, list indexes as numbers (``data.items.0.name``)."""
    if isinstance(node, dict) and node:
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{path}.{k}" if path else k)]
    if isinstance(node, list) and node:
        return [leaf for i, v in enumerate(node) for leaf in _leaves(v, f"{path}.{i}")]
    return [path]


def _pattern(path: str) -> str:
    return ".".join("*" if seg.isdigit() else seg for seg in path.split("."))


def _under_free_form(pattern: str, paths: frozenset[str]) -> bool:
    parts = pattern.split(".")
    return any(".".join([*parts[:i], FREE_FORM]) in paths for i in range(1, len(parts)))


def _tsv_rows() -> list[list[str]]:
    lines = (EDUZZ_DIR / "events.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t") for line in lines if line]


# --- the registry ------------------------------------------------------------------


def test_catalogue_has_63_events() -> None:
    """There are exactly 63 current Eduzz events."""
    assert len(CATALOGUE) == 63 == len(EVENT_NAMES)


def test_event_names_are_sorted_and_match_the_catalogue() -> None:
    """EVENT_NAMES is the sorted tuple of the catalogue's keys."""
    assert tuple(sorted(CATALOGUE)) == EVENT_NAMES


def test_events_tsv_and_fixtures_agree() -> None:
    """events.tsv rows with a fixture, the fixture files and the catalogue are the same set."""
    current = {row[0] for row in _tsv_rows() if row[4] == "yes"}
    legacy = {row[0] for row in _tsv_rows() if row[4] != "yes"}
    files = {p.name.removesuffix(".json") for p in (EDUZZ_DIR / "fixtures").glob("*.json")}
    assert current == files == set(CATALOGUE)
    assert not legacy & set(CATALOGUE)


def test_spec_carries_labels_and_type() -> None:
    """An EventSpec has the app, the Portuguese labels, the data type and the fixture name."""
    found = spec(PAID)
    assert found is not None
    assert (found.name, found.app, found.product) == (PAID, "myeduzz", "MyEduzz")
    assert (found.group, found.title) == ("Fatura", "Paga")
    assert found.fixture == "myeduzz.invoice_paid.json"
    assert issubclass(found.data_type, msgspec.Struct)


def test_title_notes_are_cut() -> None:
    """Bracketed research notes in events.tsv titles do not reach the catalogue."""
    assert spec("sun.cart_abandonment").title == "Carrinho Abandonado"
    assert all("[" not in s.title for s in CATALOGUE.values())


def test_spec_of_unknown_event_is_none() -> None:
    """spec() answers None for names outside the catalogue, including unprefixed ones."""
    assert spec("nope") is None
    assert spec("contract_created") is None


@pytest.mark.parametrize(
    ("prefix", "base"),
    [
        ("myeduzz.invoice_", structs.InvoiceCore),
        ("myeduzz.contract_", structs.SentInData),
        ("blinket.", structs.BlinketBase),
        ("nutror.", structs.NutrorBase),
        ("alpaclass.student_course", structs.AlpaCourseEvent),
        ("alpaclass.student_lesson", structs.AlpaLessonEvent),
    ],
)
def test_families_share_a_base_struct(prefix: str, base: type) -> None:
    """Events of one family share one base Struct instead of copies."""
    family = [s.data_type for name, s in CATALOGUE.items() if name.startswith(prefix)]
    assert family and all(issubclass(t, base) for t in family)


def test_same_shape_events_share_one_struct() -> None:
    """Events with the same shape use the very same Struct."""
    pending = ("canceled", "expired", "scheduled", "waiting_payment")
    assert len({spec(f"myeduzz.invoice_{e}").data_type for e in pending}) == 1


# --- fixtures ----------------------------------------------------------------------


@pytest.mark.parametrize("event", EVENT_NAMES)
def test_fixture_file_exists(event: str) -> None:
    """fixture_path points at a readable JSON envelope for every event."""
    assert fixture_path(event).is_file()
    assert isinstance(json.loads(fixture_bytes(event)), dict)


@pytest.mark.parametrize("event", EVENT_NAMES)
def test_fixture_data_validates(event: str) -> None:
    """The official example's data fits the event's own Struct."""
    assert validate(event, _envelope(event)["data"]) is None
    msgspec.json.decode(_envelope(event)["data"], type=spec(event).data_type)


@pytest.mark.parametrize("event", EVENT_NAMES)
def test_fixture_leaf_paths_are_known(event: str) -> None:
    """Every leaf path of the example is in paths (or below a free-form map)."""
    paths = spec(event).paths
    leaves = _leaves(json.loads(fixture_bytes(event)), "")
    patterns = map(_pattern, leaves)
    unknown = [p for p in patterns if p not in paths and not _under_free_form(p, paths)]
    assert unknown == []
    assert all(path_exists(event, leaf) for leaf in leaves)


@pytest.mark.parametrize("event", EVENT_NAMES)
def test_fixture_event_name_normalises(event: str) -> None:
    """The example's ``event`` (prefixed or not) normalises to the catalogue name."""
    assert normalize_event_name(json.loads(fixture_bytes(event))["event"]) == event


def test_fixture_of_unknown_event_raises() -> None:
    """fixture_path raises KeyError for an unknown event."""
    with pytest.raises(KeyError):
        fixture_path("nope")


# --- names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "full"),
    [
        ("contract_created", "myeduzz.contract_created"),
        ("upload_started", "safevideo.upload_started"),
        ("attendance_assigned", "blinket.attendance_assigned"),
        ("invoice_paid", "myeduzz.invoice_paid"),
    ],
)
def test_unprefixed_names_normalise(name: str, full: str) -> None:
    """An unprefixed name maps to the one catalogue event that ends with it."""
    assert normalize_event_name(name) == full


@pytest.mark.parametrize(
    "name", ["nope", "", "ping", "test.event_one", "myeduzz.invoice_paid", "invoice", "paid"]
)
def test_other_names_stay_unchanged(name: str) -> None:
    """Unknown, partial and already-full names come back unchanged."""
    assert normalize_event_name(name) == name


def test_ambiguous_action_is_not_mapped() -> None:
    """An action that two apps share is left out of the suffix map."""
    found = catalogue._unprefixed(["a.dup", "b.dup", "c.single"])
    assert found == {"single": "c.single"}


# --- validation --------------------------------------------------------------------


def test_string_price_is_an_error_at_the_data_path() -> None:
    """A string in data.price.value is reported with its data. path."""
    error = validate(PAID, b'{"price": {"currency": "BRL", "value": "abc"}}')
    assert error is not None
    assert "`data.price.value`" in error and "$" not in error


def test_list_buyer_is_an_error() -> None:
    """A list where data.buyer's object belongs is reported."""
    error = validate(PAID, b'{"buyer": []}')
    assert error is not None and "`data.buyer`" in error


def test_list_index_in_error_path_is_dotted() -> None:
    """List indexes in error paths read like route paths: data.items.1.price.value."""
    error = validate(PAID, b'{"items": [{}, {"price": {"value": "x"}}]}')
    assert error is not None and "`data.items.1.price.value`" in error


def test_data_that_is_not_an_object_is_an_error() -> None:
    """A data value that is not an object is reported at `data`."""
    error = validate(PAID, b"[]")
    assert error is not None and error.endswith("at `data`")


@pytest.mark.parametrize(
    "raw", [b"{", b"", b"\xff\xfe", b"nul", b'{"id": }', b'{"x":' + b"[" * 100_000, None, 42]
)
def test_bad_input_returns_text_instead_of_raising(raw: Any) -> None:
    """Invalid JSON (or not even bytes) gives an error string, never an exception."""
    assert isinstance(validate(PAID, raw), str)


def test_raw_input_is_accepted() -> None:
    """validate takes a msgspec.Raw slice of the envelope as well as bytes."""
    assert validate(PAID, msgspec.Raw(b'{"id": 123, "status": "paid"}')) is None


def test_unknown_event_validates_as_none() -> None:
    """validate answers None for an event outside the catalogue."""
    assert validate("nope", b"not json") is None


@pytest.mark.parametrize(
    "data",
    [
        b"{}",
        b'{"id": 12345678, "buyer": {"id": 1, "document": 123}}',
        b'{"utm": null, "tracker": null, "affiliate": null, "chargeback": null}',
        b'{"price": {"currency": "BRL", "value": 10}, "surprise": {"new": [1, 2]}}',
        b'{"items": [{"productId": 567, "billingType": "\xc3\x9anica", "price": {"value": 1.5}}]}',
    ],
)
def test_invoice_is_lenient_where_eduzz_is(data: bytes) -> None:
    """Missing fields, numeric ids, null objects and unknown keys are all accepted."""
    assert validate(PAID, data) is None


def test_commission_accepts_flat_and_nested_shapes() -> None:
    """commission_processed takes the flat example and the nested REF/real-traffic shape."""
    nested = {
        "invoiceId": "1",
        "commissions": {
            "producer": {"id": 789451, "name": "P", "commission": {"currency": "BRL", "value": 90}},
            "coproducers": [{"id": "2", "name": "C", "commission": {"value": 10}}],
            "affiliates": [],
        },
    }
    event = "myeduzz.commission_processed"
    assert validate(event, msgspec.json.encode(nested)) is None
    assert path_exists(event, "data.commissions.producer.value")
    assert path_exists(event, "data.commissions.coproducers.0.commission.value")


def test_blinket_ids_may_be_numbers_or_strings() -> None:
    """Blinket ids the REF types as numbers and the examples send as strings both fit."""
    data = b'{"producer": {"id": 1234}, "participant": {"inviteKey": 9, "document": {"number": 9}}}'
    assert validate("blinket.attendance_checkin", data) is None


# --- paths -------------------------------------------------------------------------


def test_paths_include_the_envelope() -> None:
    """Every event's paths include the envelope fields."""
    assert all({"id", "event", "sentDate", "data"} <= s.paths for s in CATALOGUE.values())


def test_paths_come_from_the_types() -> None:
    """Nested objects and list elements appear in paths, lists as ``*``."""
    paths = spec(PAID).paths
    assert {"data.buyer", "data.buyer.name", "data.items", "data.items.*"} <= paths
    assert "data.items.*.coupon.discount.value" in paths
    assert "data.productId.*" in spec("sun.cart_abandonment").paths


@pytest.mark.parametrize(
    ("event", "path", "exists"),
    [
        (PAID, "data.items.0.productId", True),
        (PAID, "data.items.*.productId", True),
        (PAID, "data.price.value", True),
        (PAID, "sentDate", True),
        (PAID, "data.pricee.value", False),
        (PAID, "data.price.value.cents", False),
        (PAID, "data.items.productId", False),
        (PAID, "", False),
        ("myeduzz.invoice_canceled", "data.paid.value", False),
        ("myeduzz.invoice_canceled", "data.postback", True),
        ("myeduzz.invoice_chargeback", "data.sentDate", True),
        ("myeduzz.invoice_chargeback", "data.checkoutUrl", False),
        ("blinket.attendance_checkin", "data.participant.customFields.anything", True),
        ("blinket.attendance_checkin", "data.participant.customFields.a.b.0", True),
        ("blinket.attendances_printed", "data.participants.3.customFields.company", True),
        ("myeduzz.contract_created", "data.contract.recurrence.finalDue", True),
        ("myeduzz.contract_created", "data.contract.recurrence.lastDue", True),
    ],
)
def test_path_exists(event: str, path: str, exists: bool) -> None:
    """path_exists knows which dotted paths an event can have."""
    assert path_exists(event, path) is exists


def test_path_exists_for_unknown_event_is_none() -> None:
    """path_exists answers None for an unknown event."""
    assert path_exists("nope", "data.id") is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data.pricee.value", "data.price.value"),
        ("data.items.0.productid", "data.items.0.productId"),
        ("data.buyer.nmae", "data.buyer.name"),
    ],
)
def test_suggest_finds_the_closest_path(path: str, expected: str) -> None:
    """suggest proposes the nearest existing path, keeping the caller's list index."""
    assert suggest(PAID, path) == expected


def test_suggest_without_a_close_path_or_event_is_none() -> None:
    """suggest answers None when nothing is close or the event is unknown."""
    assert suggest(PAID, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz") is None
    assert suggest("nope", "data.id") is None


def test_suggest_never_proposes_a_free_form_marker() -> None:
    """The free-form marker is not a path anyone should write."""
    found = suggest("blinket.attendance_checkin", "data.participant.customFields.*")
    assert found is not None and FREE_FORM not in found
