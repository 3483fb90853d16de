"""``sale.*`` on the request path: computed only when the config reads it.

Routing, ordering, digest grouping and follow-ups see the envelope. When a route's
``where``, a sink's ``ordered_by``, a digest's ``group_by`` or a follow-up's ``unless``
(``same``, ``where``) names a ``sale.`` path, the envelope
they see gains ``sale`` (``service.sales.sale_of``); otherwise an event pays one
identity check, so Eduzz ingest costs what it did.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from service.config.schema import Config
from service.routing.conditions import All, Any_, Condition, Not, Test, where_leaves
from service.routing.routes import CompiledRoute
from service.sales import has_sale, sale_of

_memo: list[Any] = [None, False]  # (config, reads sale): one config is current at a time


def with_sale(event: str, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` plus its ``sale`` (a new mapping), or ``doc`` itself when it is not a sale."""
    sale = sale_of(event, doc) if has_sale(event) else None
    return doc if sale is None else {**doc, "sale": sale}


def for_planning(config: Config, routes: list[CompiledRoute], event: str,
                 doc: dict[str, Any]) -> dict[str, Any]:
    """The envelope routing sees: with ``sale`` only when the config reads ``sale.*``."""
    if _memo[0] is not config:
        _memo[:] = [config, reads_sale(config, routes)]
    return with_sale(event, doc) if _memo[1] else doc


def reads_sale(config: Config, routes: list[CompiledRoute]) -> bool:
    """Whether a ``where``, ``ordered_by``, digest ``group_by`` or follow-up ``unless`` names a
    ``sale`` path."""
    targets = [t for r in config.routes for t in r.targets]
    paths = [*(p for r in routes for p in _condition_paths(r.where)),
             *(s.ordered_by for s in config.sinks.values() if s.ordered_by),
             *(g for t in targets if t.digest for g in t.digest.group_by),
             *(p for t in targets if t.unless for p in t.unless.same),
             *(p for t in targets if t.unless for p, _, _ in where_leaves(t.unless.where, ""))]
    return any(p == "sale" or p.startswith("sale.") for p in paths)


def _condition_paths(cond: Condition) -> Iterator[str]:
    match cond:
        case Test(path=path):
            yield ".".join(path)
        case All(parts=parts) | Any_(parts=parts):
            for part in parts:
                yield from _condition_paths(part)
        case Not(part=part):
            yield from _condition_paths(part)
