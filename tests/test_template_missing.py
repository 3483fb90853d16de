"""A missing payload field through filters and arithmetic renders empty or null, never fails."""

from __future__ import annotations

import json

import pytest

from conftest import post_signed
from service.errors import TemplateError
from service.render.templates import compile_template
from test_delivery import FAST, Endpoint, db, serve, wait_for, webhook_sinks

CONTEXT = {"event": "acme.x", "data": {"price": {"value": 10.5}, "tags": {"b": 2, "a": 1}}}

# (template, value in a one-expression leaf, text when the expression is inside other text)
CASES = [
    ("data.nope | tojson", "null", "null"),
    ("data.nope.deep.er | tojson", "null", "null"),
    ("{'k': data.nope} | tojson", '{"k": null}', '{"k": null}'),
    ("data.nope | int", None, ""),
    ("data.nope | float", None, ""),
    ("data.nope | round", None, ""),
    ("data.nope | round(2, 'floor')", None, ""),
    ("data.nope | abs", None, ""),
    ("data.nope | dictsort", None, ""),
    ("data.nope + 1", None, ""),
    ("1 + data.nope", None, ""),
    ("data.nope.value * 100", None, ""),
    ("(data.nope * 100) | round | int", None, ""),
    ("data.nope / 2", None, ""),
    ("data.nope // 2", None, ""),
    ("data.nope % 2", None, ""),
    ("data.nope ** 2", None, ""),
    ("-data.nope", None, ""),
    ("data.nope > 3", False, "False"),
    ("(data.price.value * 100) | int", 1050, "1050"),
    ("data.tags | dictsort", [["a", 1], ["b", 2]], "[('a', 1), ('b', 2)]"),
]


@pytest.mark.parametrize(("expr", "native", "text"), CASES)
@pytest.mark.parametrize("kind", ["webhook", "slack", "email", "file"])
def test_missing_field_renders_as_documented(kind, expr, native, text):
    """One-expression leaves give the native value (null for missing), text leaves give ""."""
    tree = {"one": "{{ " + expr + " }}", "text": "<{{ " + expr + " }}>"}
    rendered = compile_template(tree, kind=kind).render(CONTEXT)
    if kind != "email":  # e-mail leaves are always text
        assert rendered["one"] == native
    assert rendered["text"] == f"<{text}>"


def test_the_sandbox_still_refuses_unsafe_names_through_these_filters():
    """A missing *unsafe* attribute stays a security error, however it is used."""
    for expr in ("data._x | int", "data._x + 1", "data._x | tojson", "data._x | dictsort", "data._x > 1"):
        with pytest.raises(TemplateError, match="unsafe"):
            compile_template({"v": "{{ " + expr + " }}"}, kind="webhook").render(CONTEXT)


async def test_a_delivery_with_missing_fields_succeeds(tmp_path, settings_for, start, aiohttp_server):
    """Through the worker: an event lacking the fields a template uses is delivered, not failed."""
    endpoint = Endpoint()
    url = await serve(aiohttp_server, endpoint)
    body = {"cents": "{{ (data.price.value * 100) | round | int }}", "extra": "{{ data.extra | tojson }}",
            "sorted": "{{ data.tags | dictsort }}", "text": "R$ {{ data.price.value | float }}"}
    routes = [{"name": "r", "events": ["*"], "to": [{"sink": "crm", "template": {"body": body}}]}]
    client = await start(settings_for(sinks=webhook_sinks(crm=url), routes=routes, delivery=FAST), worker=True)
    await post_signed(client, json.dumps({"id": "m1", "event": "acme.x", "data": {}}).encode())
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)])
    (_, got, _), = endpoint.received
    assert json.loads(got) == {"cents": None, "extra": "null", "sorted": None, "text": "R$ "}
