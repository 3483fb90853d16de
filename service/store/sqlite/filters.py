"""The WHERE clauses of the admin lists and bulk verbs on SQLite (``?`` marks, ``GLOB``).

Events are ``e``, deliveries ``d`` (joined with their event). A cursor is the id the
previous page ended at: lists run newest first, so the next page has smaller ids.
"""

from __future__ import annotations

from typing import Any

from service.store.records import Filter


def event_where(flt: Filter, cursor: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of an events list."""
    clauses, args = ["1 = 1"], []
    for column, value in (("e.source", flt.source), ("e.external_id", flt.external_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    if flt.sources is not None:
        clauses.append(f"e.source IN ({', '.join('?' * len(flt.sources))})" if flt.sources else "0 = 1")
        args.extend(flt.sources)
    _common(flt, cursor, "e.id", clauses, args)
    return " AND ".join(clauses), args


def delivery_where(flt: Filter, cursor: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of a deliveries list (joined with events ``e``)."""
    clauses, args = ["1 = 1"], []
    pairs = (("e.source", flt.source), ("e.external_id", flt.external_id), ("d.status", flt.status),
             ("d.sink", flt.sink), ("d.event_id", flt.event_id), ("d.route", flt.route))
    for column, value in pairs:
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    _common(flt, cursor, "d.id", clauses, args)
    return " AND ".join(clauses), args


def _common(flt: Filter, cursor: str | None, id_column: str, clauses: list[str], args: list[Any]) -> None:
    if flt.event is not None:
        clauses.append("e.event GLOB ?")
        args.append(flt.event)
    if flt.since is not None:
        clauses.append("e.received_at >= ?")
        args.append(flt.since)
    if flt.until is not None:
        clauses.append("e.received_at < ?")
        args.append(flt.until)
    if cursor is not None:
        clauses.append(f"{id_column} < ?")
        args.append(int(cursor))
