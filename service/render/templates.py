"""Sandboxed, structured Jinja2 templates: the messages sinks send.

A template is a tree (dict / list, as written in YAML) whose string leaves are Jinja2
templates; other leaves (numbers, booleans, null) pass through. Rendering keeps the
tree's shape, so a Slack Block Kit message or a JSON body is valid JSON by construction.

- A leaf that is exactly one expression, ``"{{ data.price.value }}"``, renders to the
  native value (number, bool, None, dict, list); any other leaf renders to a string.
  A one-expression leaf whose value is a string renders like any other leaf (escaped).
- A missing payload field renders as ``""`` (``None`` in a one-expression leaf), however
  deep the path: payloads vary. It stays missing through arithmetic and the ``int``,
  ``float``, ``round``, ``abs`` and ``dictsort`` filters, compares as false, iterates as
  empty, and is ``null`` in ``tojson``. An unknown filter or a syntax error is a ConfigError.
- Mapping keys win over methods: ``data.items`` is the invoice's ``items`` list.
- The sandbox refuses Python internals (``''.__class__`` ...): using one is a TemplateError.

Render context, built by the caller for each delivery::

    id           the envelope's ``id`` (missing in some Eduzz examples)
    event        the event name, app prefix restored (``myeduzz.invoice_paid``)
    sentDate     the envelope's ``sentDate`` (ISO-8601, may be missing)
    data         the envelope's ``data`` (Kiwify, which has no envelope: the body)
    sale         the one sale model (``service.sales``; None when the event is no sale)
    source       the name of the source that received it
    event_id     Ponte's id of the stored event
    received_at  when Ponte received it (ISO-8601 string or datetime)

Escaping (of ``{{ }}`` output only) is the format's: ``kind`` names a format of
``service.render.formats``, whose ``Escaping`` (``service.render.escaping``) says what it does.

Filters, besides Jinja's own (``tojson``, ``join``, ``map``, ``default`` ...)::

    brl             301.5 / {"currency": "BRL", "value": 301.5} -> "R$ 301,50" ("" if not a number)
    number(d)       1234.5 -> "1.234,5"          percent(d)  50 -> "50%"
    date, datetime  ISO-8601 -> "09/01/2024", "09/01/2024 11:45" in the configured zone
                    (naive = UTC; unparseable -> unchanged); both take an strftime format
    mask_email, mask_document, mask_phone      "a***@example.com", "***.456.789-**" ...
    payment_method, status_pt                  Eduzz enums -> Portuguese labels
    slack_link(text)  a safe ``<url|text>`` (http/https only), never escaped again
    safe_url        the URL if http(s), else ""  (for ``href``)
    clip(n)         at most n characters, "…" when cut
    flatten         a mapping flattened one level: {"buyer.name": ...}
    whatsapp        WhatsApp markup made inert (for gateway bodies; whatsapp sinks do it always)
    e164            "(11) 98765-4321" -> "+5511987654321" (Brazil's rules; "" if not a phone)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import ChainableUndefined, Template, Undefined, nodes
from jinja2 import exceptions as jx
from jinja2.environment import TemplateExpression
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment

from service.config.schema import DEFAULT_TIMEZONE
from service.errors import ConfigError, TemplateError
from service.render.escaping import Escaping, Finalize
from service.render.filters import FILTERS, SlackText, moment_filter, one_line, slack_escape
from service.render.formats import FORMATS
from service.render.personal import masked, without_secrets
from service.render.phones import e164_or_empty
from service.render.whatsapp_format import whatsapp_escape

# --- the sandbox ---------------------------------------------------------------------


class _Undefined(ChainableUndefined):
    """A missing field: renders as ""; an unsafe attribute raises SecurityError when used."""

    __slots__ = ()

    def _guard(self) -> None:
        if self._undefined_exception is jx.SecurityError:
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._guard()
        return ""

    def __iter__(self) -> Any:
        self._guard()
        return iter(())

    def __bool__(self) -> bool:
        self._guard()
        return False

    def __len__(self) -> int:
        self._guard()
        return 0

    def _missing(self, *_: Any) -> _Undefined:
        """Arithmetic on a missing field is missing too (renders "" / null), never an error."""
        self._guard()
        return self

    def _never(self, _: Any) -> bool:
        """A missing field is neither greater nor smaller than anything."""
        self._guard()
        return False

    # Undefined types these as "never returns"; here they return the missing value
    __add__ = __radd__ = __sub__ = __rsub__ = _missing  # type: ignore[assignment]
    __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _missing  # type: ignore[assignment]
    __floordiv__ = __rfloordiv__ = _missing  # type: ignore[assignment]
    __mod__ = __rmod__ = __pow__ = __rpow__ = _missing  # type: ignore[assignment]
    __neg__ = __pos__ = __abs__ = __round__ = _missing  # type: ignore[assignment]
    __lt__ = __le__ = __gt__ = __ge__ = _never  # type: ignore[assignment]


def _stays_missing(name: str) -> Callable[..., Any]:
    """Jinja's filter ``name``, except that a missing field stays missing ("" / null)."""
    real = DEFAULT_FILTERS[name]

    def filter_(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, Undefined):
            return value._missing()
        return real(value, *args, **kwargs)

    return filter_


def _json_default(value: Any) -> None:
    """``tojson``: a missing field, however deep in the value, is JSON ``null``."""
    if isinstance(value, Undefined):
        str(value)  # raises for an unsafe attribute
        return None
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_MISSING_FILTERS = {name: _stays_missing(name)
                    for name in ("int", "float", "round", "abs", "dictsort")}


class _Sandbox(ImmutableSandboxedEnvironment):
    """Payload mappings expose their keys, never their methods (``data.items`` is a key)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict):
            return self._key(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, dict):
            return self._key(obj, argument)
        return super().getitem(obj, argument)

    def _key(self, obj: dict[Any, Any], key: Any) -> Any:
        try:
            return obj[key]
        except (KeyError, TypeError):
            if isinstance(key, str) and key.startswith("_"):
                return self.unsafe_undefined(obj, key)
            return self.undefined(obj=obj, name=key)


def _is_link_key(keys: tuple[str, ...]) -> bool:
    """Leaves under ``url``-like keys (``url``, ``iconUrl``) and colours are not Markdown."""
    last = keys[-1].lower() if keys else ""
    return last.endswith("url") or last in ("color", "timestamp")


@functools.lru_cache(maxsize=64)
def _environment(finalize: Finalize, timezone: str, html: bool) -> _Sandbox:
    env = _Sandbox(undefined=_Undefined, autoescape=html, finalize=finalize)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False,
                                         "default": _json_default}
    zone = ZoneInfo(timezone)
    env.filters.update(FILTERS)
    env.filters.update(whatsapp=whatsapp_escape, e164=e164_or_empty)  # gateway recipes
    env.filters.update(masked=masked, without_secrets=without_secrets)  # built-in messages
    env.filters.update(_MISSING_FILTERS)
    env.filters["date"] = moment_filter("%d/%m/%Y", zone)
    env.filters["datetime"] = moment_filter("%d/%m/%Y %H:%M", zone)
    return env


# --- compiling and rendering ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Leaf:
    path: str
    template: Template
    native: TemplateExpression | None
    slack: bool
    subject: bool

    def render(self, context: dict[str, Any]) -> Any:
        try:
            if self.native is not None:
                value = self.native(context)
                if not isinstance(value, str):
                    return _jsonable(value, self.slack)
            text = self.template.render(context)
            return one_line(text) if self.subject else text
        except Exception as exc:  # any runtime failure is the template's, never the caller's
            raise TemplateError(f"{self.path}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, jx.SecurityError):
        return f"unsafe template: {exc}"
    if isinstance(exc, jx.TemplateError):
        return str(exc.message or type(exc).__name__)
    return f"{type(exc).__name__}: {exc}"


def _jsonable(value: Any, slack: bool) -> Any:
    if isinstance(value, Undefined):
        str(value)  # raises for an unsafe attribute
        return None
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return slack_escape(value) if slack and not isinstance(value, SlackText) else str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, slack) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, slack) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"the expression gives a {type(value).__name__}, not a JSON value")


class CompiledTemplate:
    """A compiled template tree. ``render`` fills it in; ``fields`` = dotted paths it reads."""

    __slots__ = ("_tree", "fields", "kind", "where")

    def __init__(self, tree: Any, fields: frozenset[str], kind: str, where: str) -> None:
        self._tree = tree
        self.fields = fields
        self.kind = kind
        self.where = where

    def render(self, context: dict[str, Any]) -> Any:
        """The tree with every leaf rendered (shaped like the tree); TemplateError on failure."""
        return _render(self._tree, context)

    def __repr__(self) -> str:
        return f"<CompiledTemplate {self.where} kind={self.kind}>"


def _render(node: Any, context: dict[str, Any]) -> Any:
    if isinstance(node, _Leaf):
        return node.render(context)
    if isinstance(node, dict):
        return {key: _render(value, context) for key, value in node.items()}
    if isinstance(node, list):
        return [_render(value, context) for value in node]
    return node


def compile_template(
    tree: dict[str, Any] | list[Any] | str,
    *,
    kind: str,
    timezone: str = DEFAULT_TIMEZONE,
    where: str = "template",
) -> CompiledTemplate:
    """Compile every string leaf once; ConfigError lists every leaf's syntax error."""
    fmt = FORMATS.get(kind)
    if fmt is None:
        raise ValueError(f"unknown template kind {kind!r} (one of {', '.join(FORMATS)})")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError([f"{where}: unknown time zone {timezone!r}"]) from None
    errors: list[str] = []
    fields: set[str] = set()
    compiled = _compile(tree, where, (), _Job(kind, fmt.escaping, timezone, errors, fields))
    if errors:
        raise ConfigError(errors)
    return CompiledTemplate(compiled, frozenset(fields), kind, where)


@dataclass(frozen=True, slots=True)
class _Job:
    kind: str
    escaping: Escaping
    timezone: str
    errors: list[str]
    fields: set[str]


def _compile(node: Any, path: str, keys: tuple[str, ...], job: _Job) -> Any:
    if isinstance(node, dict):
        return {k: _compile(v, f"{path}.{k}", (*keys, str(k)), job) for k, v in node.items()}
    if isinstance(node, list):
        return [_compile(v, f"{path}[{i}]", keys, job) for i, v in enumerate(node)]
    if isinstance(node, str):
        return _compile_leaf(node, path, keys, job)
    return node


def _compile_leaf(source: str, path: str, keys: tuple[str, ...], job: _Job) -> _Leaf | None:
    esc = job.escaping
    html = esc.html or (esc.html_key is not None and esc.html_key in keys)
    link = esc.link_finalize is not None and _is_link_key(keys)
    env = _environment(esc.link_finalize if link else esc.finalize, job.timezone, html)
    try:
        ast = env.parse(source)
        _check_names(ast, env)
        paths = _paths(ast, env)  # before compiling: the optimizer rewrites the tree
        inner = _single_expression(ast, source) if esc.natives else None
        native = env.compile_expression(inner, False) if inner is not None else None
        template = env.from_string(ast)
    except jx.TemplateSyntaxError as exc:
        job.errors.append(f"{path}: template syntax error at line {exc.lineno}: {exc.message}")
        return None
    job.fields.update(paths)
    subject = esc.one_line_key is not None and keys[-1:] == (esc.one_line_key,)
    return _Leaf(path, template, native, esc.slack, subject)


def _check_names(ast: nodes.Template, env: _Sandbox) -> None:
    """Unknown filters/tests inside ``{% if %}`` only fail at render: catch them now."""
    for node in ast.find_all((nodes.Filter, nodes.Test)):
        is_filter = isinstance(node, nodes.Filter)
        if node.name not in (env.filters if is_filter else env.tests):
            what = "filter" if is_filter else "test"
            raise jx.TemplateSyntaxError(f"no {what} named {node.name!r}", node.lineno)


def _single_expression(ast: nodes.Template, source: str) -> str | None:
    """The expression's source when the leaf is exactly ``{{ expr }}``, else None."""
    text = source.strip()
    if len(ast.body) != 1 or not (text.startswith("{{") and text.endswith("}}")):
        return None
    output = ast.body[0]
    if not isinstance(output, nodes.Output):
        return None
    parts = [n for n in output.nodes if not _blank(n)]
    if len(parts) != 1 or isinstance(parts[0], nodes.TemplateData):
        return None
    inner = text[2:-2]
    inner = inner[1:] if inner[:1] in "-+" else inner  # whitespace control: {{- x -}}
    return inner[:-1] if inner[-1:] in "-+" else inner


def _blank(node: nodes.Node) -> bool:
    return isinstance(node, nodes.TemplateData) and not node.data.strip()


def _paths(ast: nodes.Template, env: _Sandbox) -> set[str]:
    """Dotted payload paths read by the template; loop, ``set`` and macro names excluded."""
    bound = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    bound |= {"loop", "caller", "varargs", "kwargs", "self", "super", *env.globals}
    found: set[str] = set()
    _collect(ast, bound, found)
    return found


def _collect(node: nodes.Node, bound: set[str], found: set[str]) -> None:
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        # ``event.endswith('x')``: a method call on ``event``, not a payload path ``event.endswith``
        _collect(node.node.node, bound, found)
        children: list[nodes.Node | None] = [*node.args, *node.kwargs]
        children += [node.dyn_args, node.dyn_kwargs]
        for child in children:
            if child is not None:
                _collect(child, bound, found)
        return
    if isinstance(node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
        parts, rest = _chain(node)
        if parts and parts[0] not in bound:
            found.add(".".join(parts))
        for child in rest:
            _collect(child, bound, found)
        return
    for child in node.iter_child_nodes():
        _collect(child, bound, found)


def _chain(node: nodes.Node) -> tuple[list[str], list[nodes.Node]]:
    """``data.items[0].name`` -> (["data", "items"], []); a dynamic key stops the path."""
    parts: list[str] = []
    rest: list[nodes.Node] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
        elif isinstance(node, nodes.Getitem):
            key = node.arg
            if isinstance(key, nodes.Const) and isinstance(key.value, str):
                parts.append(key.value)
            else:
                parts.clear()
                rest.append(key)
        elif isinstance(node, nodes.Name):
            return ([node.name, *reversed(parts)] if node.ctx == "load" else []), rest
        else:
            rest.append(node)
            return [], rest
        node = node.node
