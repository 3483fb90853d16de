"""Routes that can never fire: event names without their app prefix, ``where`` values of the
wrong type for a catalogue field, a config with no source.

Eduzz events are stored under their full name (``myeduzz.invoice_paid``), so a route on
``invoice_paid`` never matches one. A number field compared with text or a mapping
(``data.price.value: "100"``, ``{gte: "100"}``) is never equal, greater or smaller.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import msgspec.inspect as mi

from service.config.schema import Config, EduzzSourceConfig
from service.eduzz import catalogue
from service.routing.conditions import where_leaves

_COMPARED = ("eq", "ne", "not_eq", "gt", "gte", "lt", "lte")
_LISTED = ("in", "not_in")


def route_errors(config: Config, errors: list[str]) -> None:
    """Append what makes a route never fire (given Eduzz-only sources) to ``errors``."""
    only_eduzz = bool(config.sources) and all(
        isinstance(s, EduzzSourceConfig) for s in config.sources.values()
    )
    for i, route in enumerate(config.routes):
        if only_eduzz:
            errors += _unprefixed(route.events, f"routes[{i}].events")
        events = _known_events(route.events)
        if events:
            _check_where(route.where, f"routes[{i}].where", events, errors)


def lint_warnings(config: Config) -> list[str]:
    """What is valid but receives or sends nothing."""
    found: list[str] = []
    if not config.sources:
        found.append(
            "sources: no source is configured, so Ponte receives nothing "
            "(add one, e.g. sources: {eduzz: {type: eduzz, secrets: [...]}})"
        )
    only_eduzz = bool(config.sources) and all(
        isinstance(s, EduzzSourceConfig) for s in config.sources.values()
    )
    if not only_eduzz:
        for i, route in enumerate(config.routes):
            found += _unprefixed(route.events, f"routes[{i}].events")
    return found


def _unprefixed(globs: list[str], at: str) -> list[str]:
    found = []
    for j, glob in enumerate(globs):
        fix = _with_prefix(glob)
        if fix is not None:
            found.append(
                f"{at}[{j}]: {glob!r} never matches an Eduzz event: Ponte stores them with "
                f"their app prefix (did you mean {fix!r}?)"
            )
    return found


def _with_prefix(glob: str) -> str | None:
    """``invoice_paid`` -> ``myeduzz.invoice_paid``, ``course_*`` -> ``*.course_*``; else None."""
    if "." in glob or not glob.strip("*?"):
        return None
    apps = {
        name.split(".", 1)[0]
        for name in catalogue.EVENT_NAMES
        if fnmatch.fnmatchcase(name.split(".", 1)[1], glob)
    }
    if not apps:
        return None
    return f"{apps.pop()}.{glob}" if len(apps) == 1 else f"*.{glob}"


def checked_events(globs: list[str]) -> list[str] | None:
    """The catalogue events a route can match, or None when it may match events we don't know.

    A misspelt Eduzz name (``myeduzz.invoice_payed``, itself an error) counts as the event
    it most likely means, so the route's other mistakes are reported in the same run."""
    matched: set[str] = set()
    for glob in globs:
        app = glob.split(".", 1)[0]
        hits = [e for e in catalogue.EVENT_NAMES if fnmatch.fnmatchcase(e, glob)]
        if not hits and unknown_eduzz_glob(glob):  # misspelt (an error): check as meant
            hits = [found] if (found := catalogue.closest_event(glob)) else []
        if not hits or any(ch in app for ch in "*?[") or "." not in glob:
            return None
        matched.update(hits)
    return sorted(matched)


_APPS = frozenset(name.split(".", 1)[0] for name in catalogue.EVENT_NAMES)


def unknown_eduzz_glob(glob: str) -> bool:
    """A name with an Eduzz app prefix (``myeduzz.``) that matches no Eduzz event."""
    app = glob.split(".", 1)[0]
    if app not in _APPS:
        return False
    return not any(fnmatch.fnmatchcase(e, glob) for e in catalogue.EVENT_NAMES)


def _known_events(globs: list[str]) -> list[str]:
    return checked_events(globs) or []


def _check_where(where: Any, at: str, events: list[str], errors: list[str]) -> None:
    for path, value, where_at in where_leaves(where, at):
        if _is_number_field(path, events):
            _check_operands(value, where_at, errors)


def _check_operands(value: Any, at: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        _number_operand(value, at, errors)
        return
    for op, arg in value.items():
        if op in _COMPARED:
            _number_operand(arg, f"{at}.{op}", errors)
        elif op in _LISTED and isinstance(arg, list):
            for n, item in enumerate(arg):
                _number_operand(item, f"{at}.{op}[{n}]", errors)


def _number_operand(arg: Any, at: str, errors: list[str]) -> None:
    if isinstance(arg, (int, float)) and not isinstance(arg, bool):
        return
    shown = (
        "a mapping"
        if isinstance(arg, dict)
        else "a list"
        if isinstance(arg, list)
        else "text"
        if isinstance(arg, str)
        else type(arg).__name__
    )
    hint = f" (write {arg} without quotes)" if isinstance(arg, str) and _numeric(arg) else ""
    errors.append(f"{at}: compares a number field with {shown}, so it is never true{hint}")


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_number_field(path: str, events: list[str]) -> bool:
    """True when ``path`` is a number (or absent) on every event it exists on, and one at least."""
    kinds: set[str] = set()
    for event in events:
        spec = catalogue.spec(event)
        if spec is not None and path.startswith("data."):
            kinds |= field_kinds(mi.type_info(spec.data_type), path.split(".")[1:])
    kinds.discard("null")
    return kinds == {"number"}


def field_kinds(info: mi.Type, segments: list[str]) -> set[str]:
    """The kinds of value (number, text, bool, object, list, null, any) at ``segments``."""
    if isinstance(info, mi.UnionType):
        return set().union(*(field_kinds(t, segments) for t in info.types))
    if not segments:
        return {_kind(info)}
    head, rest = segments[0], segments[1:]
    if isinstance(info, mi.StructType):
        found = [f.type for f in info.fields if f.encode_name == head]
        return field_kinds(found[0], rest) if found else set()
    if isinstance(info, (mi.ListType, mi.VarTupleType)) and head.lstrip("-").isdigit():
        return field_kinds(info.item_type, rest)
    return {"any"} if isinstance(info, (mi.DictType, mi.AnyType)) else set()


def _kind(info: mi.Type) -> str:
    match info:
        case mi.IntType() | mi.FloatType() | mi.DecimalType():
            return "number"
        case mi.StrType() | mi.DateTimeType() | mi.DateType() | mi.LiteralType() | mi.EnumType():
            return "text"
        case mi.BoolType():
            return "bool"
        case mi.NoneType():
            return "null"
        case mi.StructType() | mi.DictType() | mi.TypedDictType():
            return "object"
        case mi.ListType() | mi.VarTupleType() | mi.TupleType() | mi.SetType():
            return "list"
    return "any"
