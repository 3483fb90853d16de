"""``where`` conditions: compiled once into small objects that test a decoded event.

The objects describe themselves and explain a failure (``ponte routes test``);
``predicate`` turns one into a plain function for the request path, where a route's
conditions run for every webhook.

Paths are dotted from the envelope (``data.buyer.email``; a number indexes a list).
Operators: eq ne in not_in gt gte lt lte regex contains startswith endswith exists, each
negatable as ``not_<op>``; ``any``/``all`` take a list of condition mappings, ``not`` one.
A missing path makes every operator false except ``exists: false``. A value of the wrong
type (``gte`` against a string) is false, never an error.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

MISSING = object()
Predicate = Callable[[Any], bool]


def resolve(doc: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in ``doc``, or MISSING (through lists by index, never through null)."""
    node = doc
    for key in path:
        if isinstance(node, dict):
            node = node.get(key, MISSING)
        elif isinstance(node, list) and key.lstrip("-").isdigit():
            index = int(key)
            node = node[index] if -len(node) <= index < len(node) else MISSING
        else:
            return MISSING
        if node is MISSING:
            return MISSING
    return node


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, arg: Any) -> bool:
        if _number(value) and _number(arg):
            return op(value, arg)
        if isinstance(value, str) and isinstance(arg, str):
            return op(value, arg)
        return False

    return test


def _contains(value: Any, arg: Any) -> bool:
    if isinstance(value, str):
        return isinstance(arg, str) and arg in value
    if isinstance(value, list):
        return arg in value
    return False


def _str_op(method: str) -> Callable[[Any, Any], bool]:
    return lambda value, arg: isinstance(value, str) and getattr(value, method)(arg)


def _eq(value: Any, arg: Any) -> bool:
    if isinstance(value, bool) or isinstance(arg, bool):
        return value is arg
    return bool(value == arg)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _eq,
    "in": lambda value, arg: any(_eq(value, a) for a in arg),
    "gt": _compare(operator.gt),
    "gte": _compare(operator.ge),
    "lt": _compare(operator.lt),
    "lte": _compare(operator.le),
    "regex": lambda value, arg: isinstance(value, str) and arg.search(value) is not None,
    "contains": _contains,
    "startswith": _str_op("startswith"),
    "endswith": _str_op("endswith"),
}
ALIASES = {"ne": "not_eq", "not_in": "not_in"}
_NEGATABLE = {"eq", "in", "regex", "contains", "startswith", "endswith"}


class Condition:
    """Something an event can satisfy."""

    def test(self, doc: Any) -> bool:
        """True when the condition holds for ``doc``."""
        raise NotImplementedError

    def why_not(self, doc: Any) -> str | None:
        """None when it holds, else the first failing part, readable."""
        return None if self.test(doc) else self.describe()

    def describe(self) -> str:
        """The condition as the user wrote it."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Test(Condition):
    path: tuple[str, ...]
    op: str
    arg: Any
    negate: bool
    shown: Any
    check: Predicate = field(init=False, compare=False, repr=False)  # the test, compiled once

    def __post_init__(self) -> None:
        object.__setattr__(self, "check", _test(self))

    def test(self, doc: Any) -> bool:
        return self.check(doc)

    def describe(self) -> str:
        name = ("not_" if self.negate else "") + self.op
        return f"{'.'.join(self.path)} {name} {self.shown!r}"


@dataclass(frozen=True, slots=True)
class All(Condition):
    parts: tuple[Condition, ...]

    def test(self, doc: Any) -> bool:
        return all(part.test(doc) for part in self.parts)

    def why_not(self, doc: Any) -> str | None:
        for part in self.parts:
            reason = part.why_not(doc)
            if reason is not None:
                return reason
        return None

    def describe(self) -> str:
        if len(self.parts) == 1:
            return self.parts[0].describe()
        return "all of (" + "; ".join(p.describe() for p in self.parts) + ")"


@dataclass(frozen=True, slots=True)
class Any_(Condition):
    parts: tuple[Condition, ...]

    def test(self, doc: Any) -> bool:
        return any(part.test(doc) for part in self.parts)

    def describe(self) -> str:
        return "any of (" + "; ".join(p.describe() for p in self.parts) + ")"


@dataclass(frozen=True, slots=True)
class Not(Condition):
    part: Condition

    def test(self, doc: Any) -> bool:
        return not self.part.test(doc)

    def describe(self) -> str:
        return f"not ({self.part.describe()})"


def compile_where(where: Any, at: str, errors: list[str]) -> Condition:
    """Compile a ``where`` mapping; problems are appended to ``errors`` with their path."""
    if not isinstance(where, dict):
        errors.append(f"{at}: expected a mapping of path -> condition")
        return All(())
    return All(tuple(_entry(key, value, f"{at}.{key}", errors) for key, value in where.items()))


def _entry(key: Any, value: Any, at: str, errors: list[str]) -> Condition:
    if key in ("any", "all"):
        if not isinstance(value, list) or not value:
            errors.append(f"{at}: expected a non-empty list of condition mappings")
            return All(())
        parts = tuple(compile_where(v, f"{at}[{i}]", errors) for i, v in enumerate(value))
        return Any_(parts) if key == "any" else All(parts)
    if key == "not":
        return Not(compile_where(value, at, errors))
    path = tuple(str(key).split("."))
    if not all(path):
        errors.append(f"{at}: empty segment in path {key!r}")
    if not isinstance(value, dict):
        return Test(path, "eq", value, False, value)
    if not value:
        errors.append(f"{at}: empty operator mapping")
    return All(tuple(_operator(path, op, arg, f"{at}.{op}", errors) for op, arg in value.items()))


def _operator(path: tuple[str, ...], op: Any, arg: Any, at: str, errors: list[str]) -> Condition:
    name = ALIASES.get(str(op), str(op))
    negate = name.startswith("not_")
    base = name.removeprefix("not_") if negate else name
    if base == "exists":
        if not isinstance(arg, bool):
            errors.append(f"{at}: {name} takes true or false")
        return Test(path, "exists", bool(arg) != negate, False, arg)
    if base not in OPERATORS or (negate and base not in _NEGATABLE):
        errors.append(f"{at}: unknown operator {op!r}")
        return All(())
    return Test(path, base, _argument(base, arg, at, errors), negate, arg)


def _argument(op: str, arg: Any, at: str, errors: list[str]) -> Any:
    if op == "regex":
        try:
            return re.compile(str(arg))
        except re.error as exc:
            errors.append(f"{at}: invalid regex {arg!r}: {exc}")
            return re.compile(r"(?!)")
    if op == "in" and not isinstance(arg, list):
        errors.append(f"{at}: in/not_in take a list")
        return []
    if op in ("startswith", "endswith") and not isinstance(arg, str):
        errors.append(f"{at}: {op} takes a string")
        return "\0"
    return arg


def predicate(cond: Condition) -> Predicate | None:
    """``cond.test`` as a closure with its dispatch done ahead; None when it always holds."""
    match cond:
        case All(parts=()):
            return None
        case All(parts=(only,)):
            return predicate(only) or _always
        case All(parts=parts):
            tests = [p for p in map(predicate, parts) if p is not None]
            return _all(tests) if tests else None
        case Any_(parts=parts):
            tests = [predicate(p) or _always for p in parts]
            return lambda doc: any(t(doc) for t in tests)
        case Not(part=part):
            inner = predicate(part) or _always
            return lambda doc: not inner(doc)
        case Test():
            return cond.check
    return cond.test


def _always(doc: Any) -> bool:
    return True


def _all(tests: list[Predicate]) -> Predicate:
    if len(tests) == 1:
        return tests[0]

    def all_(doc: Any) -> bool:
        for test in tests:  # noqa: SIM110 - a plain loop: this runs per event and predicate
            if not test(doc):
                return False
        return True

    return all_


def _test(cond: Test) -> Predicate:
    """One operator on one path: a missing path is false for every operator but ``exists``."""
    path, arg, negate = cond.path, cond.arg, cond.negate
    get = getter(path)
    if cond.op == "exists":
        return lambda doc: (get(doc) is not MISSING) == bool(arg)
    if cond.op == "in" and arg and all(type(a) is str for a in arg):
        choices = frozenset(arg)  # strings only equal strings: a set lookup is the same test
        return lambda doc: (value := get(doc)) is not MISSING and (type(value) is str and value in choices) != negate
    op = OPERATORS[cond.op]
    return lambda doc: (value := get(doc)) is not MISSING and op(value, arg) != negate


@functools.lru_cache(maxsize=1024)
def getter(path: tuple[str, ...]) -> Callable[[Any], Any]:
    """``resolve`` for one path, as a function; plain keys walk dicts without the list checks."""
    if any(key.lstrip("-").isdigit() for key in path):
        return lambda doc: resolve(doc, path)
    if len(path) == 1:
        (a,) = path
        return lambda doc: doc.get(a, MISSING) if type(doc) is dict else MISSING

    def get(doc: Any) -> Any:
        node = doc
        for key in path:
            if type(node) is not dict:
                return MISSING
            node = node.get(key, MISSING)
        return node

    return get


def where_leaves(where: Any, at: str) -> Iterator[tuple[str, Any, str]]:
    """Each (path, condition, YAML path) of a ``where`` mapping, through ``any``/``all``/``not``."""
    if not isinstance(where, dict):
        return
    for key, value in where.items():
        if key in ("any", "all") and isinstance(value, list):
            for n, part in enumerate(value):
                yield from where_leaves(part, f"{at}.{key}[{n}]")
        elif key == "not":
            yield from where_leaves(value, f"{at}.not")
        else:
            yield str(key), value, f"{at}.{key}"
