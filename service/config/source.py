"""Reading a config file: strict YAML (duplicate keys refused) and shell-like ``${VAR}``.

Errors are one line each: ``file:line:col: message`` for YAML, ``path: message`` after.
An error never shows a value that may be a secret: values from the environment and
values under secret-like keys (passwords, tokens, URLs) are cut out of every message,
and an error on a value that came from a variable names the variable instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
import yaml

from service.errors import ConfigError

VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")
SECRET_KEYS = frozenset(
    {
        "password",
        "secrets",
        "hottok",
        "token",
        "access_token",
        "admin_token",
        "signing_secret",
        "webhook_url",
        "url",
        "headers",
        "username",
        "credentials",
        "ui_password",
    }
)
_EMPTY = (
    "{path}: the file is empty: it needs at least sources, sinks and routes (see config/ponte.yaml)"
)
_ITEM = re.compile(r"^(?:(?:sources|sinks)\.[^.\[:]+|routes\[\d+\]|[A-Za-z_]+)")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader that records duplicate keys instead of silently keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, yaml.Mark, yaml.Mark]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, yaml.Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            if key_node.value in seen:
                self.duplicates.append((key_node.value, key_node.start_mark, seen[key_node.value]))
            seen.setdefault(key_node.value, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str, path: str, *, strict_keys: bool = True) -> Any:
    """Parse ``text``; raise ConfigError with ``file:line:col: message`` lines.

    ``strict_keys=False`` lets duplicate keys through (the last wins), for readers
    that only need one section."""
    loader = _Loader(text)
    try:
        doc = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_error(path, exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: invalid YAML: {exc}"]) from None
    finally:
        loader.dispose()
    if loader.duplicates and strict_keys:
        raise ConfigError(
            [_duplicate(path, key, mark, first) for key, mark, first in loader.duplicates]
        )
    if doc is None:
        raise ConfigError([_EMPTY.format(path=path)])
    return doc


def _duplicate(path: str, key: str, mark: yaml.Mark, first: yaml.Mark) -> str:
    return (
        f"{_at(path, mark)}: duplicate key {key!r} (first at line {first.line + 1}); "
        "YAML would keep only the last one"
    )


def _at(path: str, mark: yaml.Mark) -> str:
    return f"{path}:{mark.line + 1}:{mark.column + 1}"


def _yaml_error(path: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    where = _at(path, mark) if mark is not None else path
    return f"{where}: {problem}{context}"


@dataclass
class Substitution:
    """``${VAR}`` expansion over a parsed document, remembering where each variable went."""

    env: Any
    errors: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # paths whose variable is not set
    origin: dict[str, list[str]] = field(default_factory=dict)  # path -> variables used
    sensitive: set[str] = field(default_factory=set)  # values never to show in an error

    def run(self, node: Any, where: str = "") -> Any:
        """Expand every string; a value that is only a variable expanding to "" counts as unset."""
        if isinstance(node, str):
            expanded = self._expand(node, where)
            if _secret_path(where) and expanded:
                self.sensitive.add(expanded)
            return None if expanded == "" and VAR.fullmatch(node.strip()) else expanded
        if isinstance(node, dict):
            pairs = ((k, self.run(v, f"{where}.{k}" if where else str(k))) for k, v in node.items())
            return {k: v for k, v in pairs if v is not None or node[k] is None}
        if isinstance(node, list):
            items = [self.run(v, f"{where}[{i}]") for i, v in enumerate(node)]
            return [v for v, raw in zip(items, node, strict=True) if v is not None or raw is None]
        return node

    def _expand(self, text: str, where: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name, default = match[1], match[2]
            value = self.env.get(name)
            if value is None or (
                value == "" and default is not None
            ):  # the shell's ${VAR:-default}
                if default is not None:
                    return default
                self.errors.append(f"{where}: environment variable {name} is not set")
                self.missing.add(where)
                return ""
            self.origin.setdefault(where, []).append(name)
            if value:
                self.sensitive.add(value)
            return str(value)

        return VAR.sub(replace, text)

    def finish(self, errors: list[str]) -> list[str]:
        """The variable errors, then ``errors`` without follow-ons of a missing variable,
        naming the variable a bad value came from and with sensitive values cut out."""
        kept = [self._explain(e) for e in errors if not self._follows_missing(e)]
        return self.errors + kept

    def _follows_missing(self, error: str) -> bool:
        item = _ITEM.match(error)
        if item is None:
            return False
        top = item[0]
        return any(m == top or m.startswith((top + ".", top + "[")) for m in self.missing)

    def _explain(self, error: str) -> str:
        path, sep, message = error.partition(": ")
        if not sep:
            return error
        for value in sorted(self.sensitive, key=len, reverse=True):
            if len(value) >= 3:
                message = message.replace(value, "…")
        names = self.origin.get(path)
        source = f" (the value comes from ${{{names[0]}}})" if names else ""
        return f"{path}: {message}{source}"


def redact_secrets(errors: list[str], config: Any) -> list[str]:
    """``errors`` with every value written under a secret-like key of ``config`` cut out."""
    found: set[str] = set()
    _collect(msgspec.to_builtins(config, enc_hook=str), "", found)
    out = []
    for error in errors:
        path, sep, message = error.partition(": ")
        for value in sorted(found, key=len, reverse=True):
            message = message.replace(value, "…")
        out.append(f"{path}{sep}{message}")
    return out


def _collect(node: Any, where: str, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _collect(value, f"{where}.{key}", found)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _collect(value, f"{where}[{i}]", found)
    elif isinstance(node, str) and len(node) >= 3 and _secret_path(where):
        found.add(node)


def _secret_path(where: str) -> bool:
    parts = re.split(r"[.\[\]]+", where)
    return any(p in SECRET_KEYS for p in parts)
