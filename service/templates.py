"""Sandboxed, structured Jinja2 templates: the messages sinks send.

A template is a tree (dict / list, as written in YAML) whose string leaves are Jinja2
templates; other leaves (numbers, booleans, null) pass through. Rendering keeps the
tree's shape, so a Slack Block Kit message or a JSON body is valid JSON by construction.

- A leaf that is exactly one expression, ``"{{ data.price.value }}"``, renders to the
  native value (number, bool, None, dict, list); any other leaf renders to a string.
  A one-expression leaf whose value is a string renders like any other leaf (escaped).
- A missing payload field renders as ``""`` (``None`` in a one-expression leaf), however
  deep the path: payloads vary. An unknown filter or a syntax error is a ConfigError.
- Mapping keys win over methods: ``data.items`` is the invoice's ``items`` list.
- The sandbox refuses Python internals (``''.__class__`` ...): using one is a TemplateError.

Render context, built by the caller for each delivery::

    id           the envelope's ``id`` (missing in some Eduzz examples)
    event        the event name, app prefix restored (``myeduzz.invoice_paid``)
    sentDate     the envelope's ``sentDate`` (ISO-8601, may be missing)
    data         the envelope's ``data``
    source       the name of the source that received it
    event_id     Ponte's id of the stored event
    received_at  when Ponte received it (ISO-8601 string or datetime)

Escaping (of ``{{ }}`` output only, never of the text the author wrote), by ``kind``:
slack -- ``& < >`` become entities, so a payload cannot ping ``<!channel>`` or add a link
(``slack_link`` builds safe links); email -- leaves under an ``html`` key are
HTML-autoescaped and the ``subject`` leaf gets control characters (CR, LF ...) replaced by
spaces; webhook, file -- none.

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
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import ChainableUndefined, Template, Undefined, nodes
from jinja2 import exceptions as jx
from jinja2.environment import TemplateExpression
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from service.errors import ConfigError, TemplateError

KINDS = ("slack", "email", "webhook", "file")
DEFAULT_TIMEZONE = "America/Sao_Paulo"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


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

    def _key(self, obj: dict, key: Any) -> Any:
        try:
            return obj[key]
        except (KeyError, TypeError):
            if isinstance(key, str) and key.startswith("_"):
                return self.unsafe_undefined(obj, key)
            return self.undefined(obj=obj, name=key)


class SlackText(str):
    """Text already safe for Slack mrkdwn (``slack_link`` output): not escaped again."""

    __slots__ = ()


def slack_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_finalize(value: Any) -> Any:
    if isinstance(value, SlackText):
        return value
    return slack_escape("" if value is None else str(value))


def _plain_finalize(value: Any) -> Any:
    return "" if value is None else value


# --- filters ------------------------------------------------------------------------

_SYMBOLS = {"BRL": "R$", "USD": "US$", "EUR": "€"}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    else:
        text = value.strip() if isinstance(value, str) else repr(value)
        if isinstance(value, str) and "," in text:  # "1.234,56"
            text = text.replace(".", "").replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            return None
    return amount if amount.is_finite() else None


def _grouped(amount: Decimal, digits: int) -> str:
    try:
        amount = amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        pass
    return f"{amount:,.{digits}f}".translate(str.maketrans(",.", ".,"))


def brl(value: Any) -> str:
    """1234.56 or {"currency": "BRL", "value": 1234.56} -> "R$ 1.234,56"; not a number -> ""."""
    currency = "BRL"
    if isinstance(value, Mapping):
        currency = str(value.get("currency") or "BRL").upper()
        value = value.get("value")
    amount = _decimal(value)
    if amount is None:
        return ""
    text = _grouped(abs(amount), 2)
    sign = "-" if amount < 0 and text.strip("0,.") else ""
    return f"{sign}{_SYMBOLS.get(currency, currency)} {text}"


def number(value: Any, digits: int | None = None) -> str:
    """1234.5 -> "1.234,5"; ``digits`` fixes the decimals (else up to 6); not a number -> ""."""
    amount = _decimal(value)
    if amount is None:
        return ""
    if digits is None:
        try:
            exponent = amount.quantize(Decimal("1e-6"), ROUND_HALF_UP).normalize().as_tuple()[2]
        except InvalidOperation:
            exponent = 0
        digits = max(0, -exponent) if isinstance(exponent, int) else 0
    return _grouped(amount, max(0, int(digits)))


def percent(value: Any, digits: int | None = None, ratio: bool = False) -> str:
    """50 -> "50%" (0.5 with ``ratio=True``); not a number -> ""."""
    amount = _decimal(value)
    if amount is None:
        return ""
    return number(amount * 100 if ratio else amount, digits) + "%"


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _moment(value: Any) -> datetime | date | None:
    if isinstance(value, (datetime, date)):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _DATE_ONLY.fullmatch(text):
            return date.fromisoformat(text)
        return datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        return None


def _moment_filter(default_format: str, zone: ZoneInfo) -> Any:
    def moment(value: Any, fmt: str | None = None) -> Any:
        """Format an ISO-8601 date in the configured zone (naive = UTC); else return it as is."""
        found = _moment(value)
        if isinstance(found, datetime):
            found = (found if found.tzinfo else found.replace(tzinfo=UTC)).astimezone(zone)
            return found.strftime(fmt or default_format)
        return value if found is None else found.strftime(fmt or "%d/%m/%Y")

    return moment


def mask_email(value: Any) -> str:
    """"alice.johnson@example.com" -> "a***@example.com"."""
    text = _text(value).strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return f"{text[:1]}***" if text else ""
    return f"{local[:1]}***@{domain}"


def mask_document(value: Any) -> str:
    """CPF -> "***.456.789-**", CNPJ -> "**.345.678/0001-**", else all but the last 2 masked."""
    text = _text(value).strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11:
        return f"***.{digits[3:6]}.{digits[6:9]}-**"
    if len(digits) == 14:
        return f"**.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-**"
    return "*" * len(text) if len(text) <= 2 else "*" * (len(text) - 2) + text[-2:]


def mask_phone(value: Any) -> str:
    """"+5515999999999" -> "+**********9999" (also a {countryCode, areaCode, number} map)."""
    if isinstance(value, Mapping):
        parts = (value.get("countryCode"), value.get("areaCode"), value.get("number"))
        value = " ".join(str(p) for p in parts if p)
    text = _text(value).strip()
    total = sum(c.isdigit() for c in text)
    keep, seen, out = (4 if total > 4 else 0), 0, []
    for char in text:
        if char.isdigit():
            seen += 1
            char = char if seen > total - keep else "*"
        out.append(char)
    return "".join(out)


PAYMENT_METHODS = {
    "bankslip": "Boleto", "pix": "Pix", "creditcard": "Cartão de crédito",
    "debitcard": "Cartão de débito", "combinedpayment": "Pagamento combinado",
    "installmentbankslip": "Boleto parcelado", "eduzzbalance": "Saldo Eduzz",
    "automaticpix": "Pix Automático", "paypal": "PayPal", "free": "Gratuito",
    "unknown": "Desconhecido",
}  # fmt: skip

STATUSES = {
    # invoices (FACTS §5)
    "open": "Aberta", "processing": "Processando", "paid": "Paga", "canceled": "Cancelada",
    "waitingdocuments": "Aguardando documentos", "waitingrefund": "Aguardando reembolso",
    "refunded": "Reembolsada", "analysing": "Em análise", "duplicated": "Duplicada",
    "expired": "Expirada", "recovering": "Em recuperação", "internal": "Interna",
    "trial": "Em período de teste", "deleted": "Excluída", "refused": "Recusada",
    "waitingpayment": "Aguardando pagamento", "overdue": "Vencida", "scheduled": "Agendada",
    "negotiated": "Negociada", "partialrefund": "Reembolso parcial",
    # contracts (assinaturas)
    "uptodate": "Em dia", "awaitingpayment": "Aguardando pagamento", "late": "Atrasada",
    "defaulter": "Inadimplente", "suspended": "Suspensa", "finished": "Finalizada",
    "free": "Gratuita",
    # chargebacks
    "pendingdocuments": "Aguardando documentos", "underreview": "Em análise",
    "rejected": "Rejeitado", "unknown": "Desconhecido",
    # contract_updated reasons
    "status_updated": "Mudança de status", "negotiation": "Negociação",
    "readjustment": "Reajuste", "upgrade": "Upgrade", "downgrade": "Downgrade",
    "reactivation": "Reativação", "suspension": "Suspensão", "cancellation": "Cancelamento",
    # cart abandonment steps, Blinket tickets
    "payment-sent": "Pagamento enviado", "payment_failed": "Pagamento recusado",
    "pending": "Pendente", "active": "Ativo",
}  # fmt: skip


def payment_method(value: Any) -> str:
    """bankslip -> "Boleto", creditCard -> "Cartão de crédito" ...; other values unchanged."""
    text = _text(value)
    return PAYMENT_METHODS.get(text.lower(), text)


def status_pt(value: Any) -> str:
    """Invoice / contract / chargeback status -> Portuguese label; other values unchanged."""
    text = _text(value)
    return STATUSES.get(text.lower(), text)


def _http_url(url: Any) -> str:
    text = _text(url).strip()
    ok = re.fullmatch(r"https?://[^\s/?#]+\S*", text, re.IGNORECASE) and len(text) <= 2000
    return text if ok else ""


def slack_link(url: Any, text: Any = None) -> SlackText:
    """A safe Slack ``<url|text>`` link; not an http(s) URL -> just the (escaped) text."""
    label = slack_escape(_text(url if text is None else text))
    href = _http_url(url)
    return SlackText(f"<{slack_escape(href).replace('|', '%7C')}|{label}>" if href else label)


def safe_url(url: Any) -> str:
    """The URL if it is http(s), else "" (for ``href`` attributes)."""
    return _http_url(url)


def clip(value: Any, length: int = 200) -> str:
    """At most ``length`` characters, "…" when cut; None -> ""."""
    text = _text(value)
    if len(text) > length:
        text = text[: max(length - 1, 0)].rstrip() + "…"
    return type(value)(text) if isinstance(value, (Markup, SlackText)) else text


def flatten(value: Any) -> dict[str, Any]:
    """A mapping flattened one level: {"buyer": {"name": "A"}} -> {"buyer.name": "A"}."""
    out: dict[str, Any] = {}
    for key, item in (value.items() if isinstance(value, Mapping) else ()):
        if isinstance(item, Mapping) and item:
            out.update({f"{key}.{sub}": inner for sub, inner in item.items()})
        else:
            out[str(key)] = item
    return out


FILTERS = {
    "brl": brl, "number": number, "percent": percent, "mask_email": mask_email,
    "mask_document": mask_document, "mask_phone": mask_phone,
    "payment_method": payment_method, "status_pt": status_pt, "slack_link": slack_link,
    "safe_url": safe_url, "clip": clip, "flatten": flatten,
}  # fmt: skip


@functools.lru_cache(maxsize=64)
def _environment(kind: str, timezone: str, html: bool) -> _Sandbox:
    finalize = _slack_finalize if kind == "slack" else _plain_finalize
    env = _Sandbox(undefined=_Undefined, autoescape=html, finalize=finalize)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    zone = ZoneInfo(timezone)
    env.filters.update(FILTERS)
    env.filters["date"] = _moment_filter("%d/%m/%Y", zone)
    env.filters["datetime"] = _moment_filter("%d/%m/%Y %H:%M", zone)
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
            return _CONTROL.sub(" ", text).strip() if self.subject else text
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
    tree: dict | list | str,
    *,
    kind: str,
    timezone: str = DEFAULT_TIMEZONE,
    where: str = "template",
) -> CompiledTemplate:
    """Compile every string leaf once; ConfigError lists every leaf's syntax error."""
    if kind not in KINDS:
        raise ValueError(f"unknown template kind {kind!r} (one of {', '.join(KINDS)})")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError([f"{where}: unknown time zone {timezone!r}"]) from None
    errors: list[str] = []
    fields: set[str] = set()
    compiled = _compile(tree, where, (), _Job(kind, timezone, errors, fields))
    if errors:
        raise ConfigError(errors)
    return CompiledTemplate(compiled, frozenset(fields), kind, where)


@dataclass(frozen=True, slots=True)
class _Job:
    kind: str
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
    email = job.kind == "email"
    env = _environment(job.kind, job.timezone, email and "html" in keys)
    try:
        ast = env.parse(source)
        _check_names(ast, env)
        paths = _paths(ast, env)  # before compiling: the optimizer rewrites the tree
        inner = None if email else _single_expression(ast, source)
        native = env.compile_expression(inner, False) if inner is not None else None
        template = env.from_string(ast)
    except jx.TemplateSyntaxError as exc:
        job.errors.append(f"{path}: template syntax error at line {exc.lineno}: {exc.message}")
        return None
    job.fields.update(paths)
    subject = email and keys[-1:] == ("subject",)
    return _Leaf(path, template, native, job.kind == "slack", subject)


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
