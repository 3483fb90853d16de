"""Text rules the chat sinks share: Markdown escaping, length in the provider's units, safe cuts.

- Discord reads Markdown: ``escape_markdown`` puts a backslash before every character that
  could start formatting, a link or a mention, so payload text such as ``**x**``, ``[a](b)``
  or ``@everyone`` shows literally.
- Teams (Adaptive Cards) reads only bold, italic, lists and links, and shows any other
  backslash: ``escape_teams`` escapes just those (``*``, ``_``, ``[``, ``]``, list markers).
- Telegram reads a small HTML subset: ``cut_html`` shortens a message without ever cutting
  inside a tag or an entity, closes the tags it leaves open and ends with a visible "…".
- Telegram counts UTF-16 code units (an emoji counts 2): ``utf16_len``.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
_INLINE = re.compile(r"([\\*_~`|\[\]()<>@#])")
_LINE_START = re.compile(r"(?m)^(\s*)([-+>]|\d+\.)(?=\s|$)")
_TEAMS_INLINE = re.compile(r"([*_\[\]])")
_TEAMS_LINE_START = re.compile(r"(?m)^(\s*)([-+]|\d+\.)(?=\s|$)")
_TOKEN = re.compile(r"<[^>]*>|&[#A-Za-z0-9]+;|[\s\S]")
_TAG = re.compile(r"^<\s*(/?)\s*([A-Za-z-]+)")
_VOID = frozenset({"br"})


def escape_markdown(text: str) -> str:
    """``text`` with Markdown, links and mentions made inert (``\\*``, ``\\@everyone``)."""
    escaped = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_line_start, escaped)


def escape_teams(text: str) -> str:
    """``text`` with the Markdown Teams cards read made inert (``\\*``, ``\\[``, ``\\- item``)."""
    escaped = _TEAMS_INLINE.sub(r"\\\1", text)
    return _TEAMS_LINE_START.sub(_line_start, escaped)


def _line_start(match: re.Match[str]) -> str:
    """``- item`` -> ``\\- item``; ``1. um`` -> ``1\\. um`` (a backslash before a digit shows)."""
    marker = match[2]
    escaped = f"{marker[:-1]}\\." if marker.endswith(".") else f"\\{marker}"
    return match[1] + escaped


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def clip_plain(text: str, limit: int) -> str:
    """At most ``limit`` characters ending in "…" when cut; never ends in a lone backslash."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)].rstrip()
    if (len(head) - len(head.rstrip("\\"))) % 2:  # an escape cut in half would eat the "…"
        head = head[:-1]
    return head + ELLIPSIS


def cut_html(text: str, limit: int) -> str:
    """``text`` (Telegram HTML) in at most ``limit`` UTF-16 units, cut between tokens.

    Tags and entities are kept whole; the tags left open are closed after the "…",
    and their closing text is reserved inside ``limit``.
    """
    if utf16_len(text) <= limit:
        return text
    out: list[str] = []
    open_tags: list[str] = []
    size = utf16_len(ELLIPSIS)
    for token in _TOKEN.findall(text):
        tag = _TAG.match(token) if token.startswith("<") else None
        closing = _closing(open_tags, tag)
        if size + utf16_len(token) + utf16_len(closing) > limit:
            break
        out.append(token)
        size += utf16_len(token)
        _track(open_tags, tag)
    return "".join(out).rstrip() + ELLIPSIS + _closing(open_tags, None)


def _closing(open_tags: list[str], tag: re.Match[str] | None) -> str:
    """The closing tags needed after the cut, counting ``tag`` if it opens one."""
    names = list(open_tags)
    if tag is not None and not tag[1] and tag[2].lower() not in _VOID:
        names.append(tag[2].lower())
    return "".join(f"</{name}>" for name in reversed(names))


def _track(open_tags: list[str], tag: re.Match[str] | None) -> None:
    if tag is None or tag[2].lower() in _VOID:
        return
    name = tag[2].lower()
    if not tag[1]:
        open_tags.append(name)
    elif name in open_tags:
        del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name)]
