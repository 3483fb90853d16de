"""service.chatformat: Markdown escaping, UTF-16 length and cuts that keep Telegram HTML valid."""

from __future__ import annotations

import pytest
from chat_fakes import telegram_text_error
from hypothesis import given, settings
from hypothesis import strategies as st

from service.render.chatformat import clip_plain, cut_html, escape_markdown, escape_teams, utf16_len


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("**negrito**", "\\*\\*negrito\\*\\*"),
        ("@everyone", "\\@everyone"),
        ("[x](https://e.com)", "\\[x\\]\\(https://e.com\\)"),
        ("<@123> <t:1>", "\\<\\@123\\> \\<t:1\\>"),
        ("_a_ ~b~ `c` ||d||", "\\_a\\_ \\~b\\~ \\`c\\` \\|\\|d\\|\\|"),
        ("# título\n- item\n> citação\n1. um", "\\# título\n\\- item\n\\> citação\n1\\. um"),
        ("R$ 1.234,56 - ok", "R$ 1.234,56 - ok"),
        ("a\\b", "a\\\\b"),
    ],
)
def test_escape_markdown(text: str, escaped: str) -> None:
    """Formatting, links, mentions and line-start markers get a backslash; plain text does not."""
    assert escape_markdown(text) == escaped


def test_utf16_len_counts_emoji_as_two() -> None:
    """Telegram counts UTF-16 units."""
    assert utf16_len("💰a") == 3


@pytest.mark.parametrize(("text", "limit", "expected"), [("abc", 3, "abc"), ("abcd", 3, "ab…"),
                                                          ("a\\*bc", 3, "a…")])  # fmt: skip
def test_clip_plain(text: str, limit: int, expected: str) -> None:
    """Cut with "…", never leaving half an escape."""
    assert clip_plain(text, limit) == expected


TOKENS = st.sampled_from(
    ["<b>", "</b>", "<i>", "</i>", '<a href="https://e.com/?a=1&amp;b=2">', "</a>", "<code>",
     "</code>", "&amp;", "&lt;", "&#128176;", "💰", "a", "ção", " ", "\n", "xyz"]
)  # fmt: skip


def balanced(tokens: list[str]) -> str:
    """Well-formed Telegram HTML from a token soup: unmatched closing tags dropped, rest closed."""
    out: list[str] = []
    stack: list[str] = []
    for token in tokens:
        if token.startswith("</"):
            if stack and stack[-1] == token[2:-1]:
                out.append(token)
                stack.pop()
        elif token.startswith("<"):
            out.append(token)
            stack.append(token[1:].split(" ")[0].rstrip(">"))
        else:
            out.append(token)
    return "x" + "".join(out) + "".join(f"</{name}>" for name in reversed(stack))


@settings(max_examples=200, deadline=None)
@given(st.lists(TOKENS, max_size=80), st.integers(min_value=1, max_value=120))
def test_cut_html_keeps_any_valid_message_valid(tokens: list[str], limit: int) -> None:
    """Any valid HTML cut at any limit stays valid Telegram HTML within the limit."""
    text = balanced(tokens)
    cut = cut_html(text, limit)
    assert utf16_len(cut) <= max(limit, 1)
    assert telegram_text_error(cut) is None
    if utf16_len(text) <= limit:
        assert cut == text
    else:
        assert "…" in cut


@pytest.mark.parametrize("limit", range(1, 14))
def test_clip_in_telegram_html_never_cuts_an_entity(limit: int) -> None:
    """``{% filter clip(n) %}`` over escaped output drops a half entity instead of keeping it."""
    from service.render.templates import compile_template

    source = f"{{% filter clip({limit}) %}}{{{{ data.x }}}}{{% endfilter %}}"
    text = compile_template({"text": source}, kind="telegram").render({"data": {"x": "a&b<c>&&"}})
    assert telegram_text_error(text["text"]) is None


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("**negrito** _it_", "\\*\\*negrito\\*\\* \\_it\\_"),
        ("[x](https://e.com)", "\\[x\\](https://e.com)"),
        ("- item\n1. um\n# h > q", "\\- item\n1\\. um\n# h > q"),
        ("@everyone <b> ~s~ `c` R$ 1,00", "@everyone <b> ~s~ `c` R$ 1,00"),
    ],
)
def test_escape_teams_touches_only_what_cards_read(text: str, escaped: str) -> None:
    """Teams reads bold, italic, lists and links; anything else escaped would show a backslash."""
    assert escape_teams(text) == escaped
