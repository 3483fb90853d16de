"""Dead letters grouped by the kind of failure a seller recognises ("telefone inválido"),
not by exact text: three bad phones are one line, whatever the digits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.store.records import FailureGroup

# (kind, pattern, pt-BR words, English words); the first pattern that matches decides
_KINDS: tuple[tuple[str, re.Pattern[str], str, str], ...] = tuple(
    (kind, re.compile(pattern), pt, en) for kind, pattern, pt, en in (
        ("phone", r"phone number", "telefone inválido", "invalid phone number"),
        ("timeout", r"timed out after", "tempo esgotado", "timed out"),
        ("connect", r"cannot connect|connection failed|closed the connection|DNS lookup failed",
         "não foi possível conectar", "could not connect"),
        ("tls", r"TLS certificate", "certificado TLS não confiável", "TLS certificate not trusted"),
        ("redirect", r"redirect", "redirecionamento recusado", "redirect refused"),
        ("template", r"template failed", "erro no modelo da mensagem", "message template failed"),
        ("token", r"token (request|endpoint)", "não conseguiu o token de acesso", "could not get an access token"),
    ))
_HTTP = re.compile(r"HTTP (\d{3})")
_VARIABLE = re.compile(r"•+\w*|\d+")


@dataclass(frozen=True, slots=True)
class KindGroup:
    """Dead letters of one sink with one kind of failure: how many, and one example text."""

    sink: str
    kind: str
    label: str  # the kind in the page's language ("" for an unknown kind: show ``example``)
    example: str | None
    count: int


def failure_kind(error: str | None, lang: str) -> tuple[str, str]:
    """(kind key, words for it in ``lang``) of one error text; ("", "") when unknown."""
    text = error or ""
    for kind, pattern, pt, en in _KINDS:
        if pattern.search(text):
            return kind, pt if lang == "pt" else en
    http = _HTTP.search(text)
    if http is not None:
        words = "o destino respondeu HTTP" if lang == "pt" else "the receiver answered HTTP"
        return f"http {http[1]}", f"{words} {http[1]}"
    return "", ""


def by_kind(groups: list[FailureGroup], lang: str, limit: int) -> list[KindGroup]:
    """Regroup exact-text groups by (sink, kind of failure), largest first, at most ``limit``."""
    merged: dict[tuple[str, str], KindGroup] = {}
    for g in groups:
        kind, label = failure_kind(g.error, lang)
        key = (g.sink, kind or "text:" + _VARIABLE.sub("#", g.error or ""))
        seen = merged.get(key)
        count = g.count + (seen.count if seen else 0)
        merged[key] = KindGroup(g.sink, kind, label, seen.example if seen else g.error, count)
    return sorted(merged.values(), key=lambda k: (-k.count, k.sink))[:limit]
