"""Routing: every operator and combinator as a table; stop and at-most-once semantics."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.config.load import parse_config
from service.errors import ConfigError
from service.routing.conditions import compile_where, predicate
from service.routing.routes import compile_routes, explain, plan

DOC: dict[str, Any] = {
    "id": "e1",
    "event": "myeduzz.invoice_paid",
    "data": {
        "price": {"value": 150.0, "currency": "BRL"},
        "buyer": {"email": "ana@example.com", "name": "Ana"},
        "items": [{"productId": "P1"}, {"productId": "P2"}],
        "tags": ["vip", "novo"],
        "installments": 3,
        "paid": True,
        "nothing": None,
    },
}


def holds(where: dict[str, Any], doc: Any = DOC) -> bool:
    """Compile ``where`` (no errors allowed) and test it against ``doc``.

    The request path runs the compiled closure (``predicate``), ``routes test`` the
    objects: both must give the same answer, so every table below checks both.
    """
    errors: list[str] = []
    cond = compile_where(where, "where", errors)
    assert errors == []
    expected = cond.test(doc)
    fast = predicate(cond)
    assert (True if fast is None else fast(doc)) is expected, where
    return expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"data.price.value": 150.0}, True),
        ({"data.price.value": 151}, False),
        ({"data.price.value": {"eq": 150}}, True),
        ({"data.price.value": {"ne": 150}}, False),
        ({"data.price.value": {"not_eq": 1}}, True),
        ({"data.price.currency": {"in": ["BRL", "USD"]}}, True),
        ({"data.price.currency": {"not_in": ["BRL"]}}, False),
        ({"data.price.value": {"gt": 149.9}}, True),
        ({"data.price.value": {"gt": 150}}, False),
        ({"data.price.value": {"gte": 150}}, True),
        ({"data.price.value": {"lt": 150}}, False),
        ({"data.price.value": {"lte": 150}}, True),
        ({"data.buyer.email": {"regex": "^ana@"}}, True),
        ({"data.buyer.email": {"not_regex": "@example\\.com$"}}, False),
        ({"data.buyer.email": {"contains": "@ex"}}, True),
        ({"data.tags": {"contains": "vip"}}, True),
        ({"data.tags": {"not_contains": "vip"}}, False),
        ({"data.buyer.email": {"startswith": "ana"}}, True),
        ({"data.buyer.email": {"not_startswith": "ana"}}, False),
        ({"data.buyer.email": {"endswith": "@eduzz.com"}}, False),
        ({"data.buyer.email": {"not_endswith": "@eduzz.com"}}, True),
        ({"data.buyer.phone": {"exists": False}}, True),
        ({"data.buyer.phone": {"exists": True}}, False),
        ({"data.buyer.name": {"exists": True}}, True),
        ({"data.buyer.name": {"not_exists": True}}, False),
        ({"data.nothing": {"exists": True}}, True),
        ({"data.items.1.productId": "P2"}, True),
        ({"data.items.-1.productId": "P2"}, True),
        ({"data.items.5.productId": {"exists": False}}, True),
        ({"data.paid": True}, True),
        ({"data.paid": 1}, False),
        ({"data.installments": True}, False),
        ({"event": "myeduzz.invoice_paid"}, True),
        ({"id": {"startswith": "e"}}, True),
    ],
)
def test_operators(where, expected):
    """Each operator and its negation against a known document."""
    assert holds(where) is expected


@pytest.mark.parametrize(
    "where",
    [
        {"data.buyer.email": {"gte": 100}},  # operator on the wrong type
        {"data.price.value": {"startswith": "1"}},
        {"data.missing.deep.path": {"eq": 1}},  # absent path
        {"data.missing": {"ne": 1}},  # absent makes negations false too
        {"data.nothing.value": {"exists": True}},  # through a null
        {"data.items.productId": "P1"},  # through a list without index
        {"data.price.value.x": 1},  # through a number
        {"data.tags": {"regex": "vip"}},  # regex on a list
    ],
)
def test_wrong_types_and_missing_paths_are_false_not_errors(where):
    """A mismatch of types or a missing path is simply false."""
    assert holds(where) is False


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"any": [{"data.price.value": 1}, {"data.buyer.name": "Ana"}]}, True),
        ({"any": [{"data.price.value": 1}, {"data.buyer.name": "Bia"}]}, False),
        ({"all": [{"data.price.value": 150}, {"data.buyer.name": "Ana"}]}, True),
        ({"all": [{"data.price.value": 150}, {"data.buyer.name": "Bia"}]}, False),
        ({"not": {"data.buyer.name": "Ana"}}, False),
        ({"not": {"any": [{"data.x": 1}, {"data.y": 2}]}}, True),
        ({"any": [{"all": [{"data.paid": True}, {"data.installments": {"gte": 3}}]}, {"data.x": 1}]}, True),
        ({"data.price.value": {"gte": 100, "lt": 200}}, True),
        ({"data.price.value": {"gte": 100, "lt": 120}}, False),
    ],
)
def test_combinators(where, expected):
    """any / all / not nest, and several operators on one path all must hold."""
    assert holds(where) is expected


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.floats(-1, 300, allow_nan=False),
                    st.sampled_from(["", "BRL", "ana@eduzz.com", "P1", "vip", "1", "black-friday"]))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["price", "value", "email", "items", "0", "tags", "x"]), inner, max_size=4)),
    max_leaves=12)
_WHERES = [
    {"data.price.value": {"gte": 100, "lt": 200}},
    {"data.x": {"in": ["BRL", "P1"]}},
    {"data.x": {"not_in": ["BRL", "P1", 1, True]}},
    {"data.x": {"in": [1, True, None]}},
    {"data.email": {"not_endswith": "@eduzz.com", "exists": True}},
    {"data.items.0.value": {"ne": 1}},
    {"data.items.-1": {"exists": False}},
    {"data.tags": {"contains": "vip"}},
    {"data.x": {"regex": "^(black|promo)"}},
    {"any": [{"data.x": "BRL"}, {"data.price": {"eq": None}}, {"not": {"data.value": True}}]},
    {"all": [{"data.x": {"startswith": "a"}}, {"data.price.x": {"lte": 2.5}}]},
]


@settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(st.sampled_from(["price", "value", "email", "items", "tags", "x"]), _JSON, max_size=6))
def test_compiled_predicates_agree_with_the_condition_objects(data):
    """Whatever the document, the request path's closures answer as the objects do."""
    for where in _WHERES:
        holds(where, {"data": data})
    holds({"data.x": 1}, data)  # a document that is not shaped like an envelope at all


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"data.x": {"regex": "(unclosed"}}, "invalid regex"),
        ({"data.x": {"bogus": 1}}, "unknown operator 'bogus'"),
        ({"data.x": {"not_gt": 1}}, "unknown operator 'not_gt'"),
        ({"data.x": {"in": "abc"}}, "take a list"),
        ({"data.x": {"exists": "yes"}}, "takes true or false"),
        ({"any": []}, "non-empty list"),
        ({"data..x": 1}, "empty segment"),
    ],
)
def test_bad_conditions_are_config_errors(where, message):
    """Invalid conditions are reported with their path at load time."""
    errors: list[str] = []
    compile_where(where, "routes[0].where", errors)
    assert any(message in e and e.startswith("routes[0].where") for e in errors), errors


def _routes(*routes: dict[str, Any]):
    sinks = {name: {"type": "file", "path": f"/tmp/{name}"} for name in ("a", "b", "c")}
    return compile_routes(parse_config({"sinks": sinks, "routes": list(routes)}, env={}))


def test_every_matching_route_fires_until_stop():
    """Routes fire in order; a matching stop route ends evaluation."""
    routes = _routes(
        {"name": "one", "events": ["myeduzz.*"], "to": ["a"]},
        {"name": "two", "events": ["myeduzz.invoice_paid"], "to": ["b"], "stop": True},
        {"name": "three", "events": ["*"], "to": ["c"]},
    )
    assert [p.sink for p in plan(routes, "myeduzz.invoice_paid", DOC)] == ["a", "b"]
    assert [p.sink for p in plan(routes, "nutror.lesson_watched", DOC)] == ["c"]


def test_a_non_matching_stop_route_does_not_stop():
    """stop only applies when its route matched."""
    routes = _routes(
        {"name": "s", "events": ["*"], "where": {"data.price.value": 1}, "to": ["a"], "stop": True},
        {"name": "t", "events": ["*"], "to": ["b"]},
    )
    assert [p.sink for p in plan(routes, "x", DOC)] == ["b"]


def test_at_most_one_delivery_per_sink_first_route_wins():
    """Two routes naming one sink give one delivery, with the first route's settings."""
    routes = _routes(
        {"name": "first", "events": ["*"], "to": [{"sink": "a", "template": {"text": "1"}}]},
        {"name": "second", "events": ["*"], "to": [{"sink": "a", "template": {"text": "2"}}, "b"]},
    )
    planned = plan(routes, "x", DOC)
    assert [(p.sink, p.route) for p in planned] == [("a", "first"), ("b", "second")]
    assert planned[0].template == {"text": "1"}


def test_glob_patterns():
    """Event globs use shell-style patterns on the full name."""
    routes = _routes({"name": "g", "events": ["myeduzz.invoice_[pr]*", "nutror.?esson_*"], "to": ["a"]})
    assert plan(routes, "myeduzz.invoice_paid", DOC)
    assert plan(routes, "myeduzz.invoice_refunded", DOC)
    assert not plan(routes, "myeduzz.invoice_opened", DOC)
    assert plan(routes, "nutror.lesson_watched", DOC)


def test_explain_says_which_condition_failed():
    """explain names the failing condition of each route that did not match."""
    routes = _routes(
        {"name": "big", "events": ["myeduzz.*"], "where": {"data.price.value": {"gte": 1000}}, "to": ["a"]},
        {"name": "other-app", "events": ["nutror.*"], "to": ["b"]},
        {"name": "all", "events": ["*"], "to": ["c"]},
    )
    verdicts = explain(routes, "myeduzz.invoice_paid", DOC)
    assert [v.matched for v in verdicts] == [False, False, True]
    assert "data.price.value gte 1000" in verdicts[0].reason
    assert "matches none" in verdicts[1].reason


def test_bad_route_config_lists_every_problem():
    """Undefined sinks, duplicate names and a bad regex are all reported at once."""
    raw = {
        "sinks": {"a": {"type": "file", "path": "/tmp/a"}},
        "routes": [
            {"name": "r", "events": ["*"], "to": ["nope"]},
            {"name": "r", "events": ["*"], "to": ["a"]},
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={})
    text = "\n".join(info.value.errors)
    assert "routes[0].to[0]: unknown sink 'nope'" in text
    assert "routes[1].name: duplicate route name 'r'" in text


def test_operational_events_only_match_globs_that_name_them():
    """A catch-all '*' does not receive ponte.* events; 'ponte.*' does."""
    routes = _routes(
        {"name": "all", "events": ["*"], "to": ["a"]},
        {"name": "ops", "events": ["ponte.*"], "to": ["b"]},
    )
    assert [p.sink for p in plan(routes, "ponte.delivery_failed", DOC)] == ["b"]
    assert [p.sink for p in plan(routes, "myeduzz.invoice_paid", DOC)] == ["a"]
