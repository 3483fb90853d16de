"""Built-in chat messages: every Eduzz event, for every chat channel, within limits and inert."""

from __future__ import annotations

import html
import re
from typing import Any

import msgspec
import pytest
from chat_fakes import TEAMS_LIMIT, discord_errors, teams_errors, telegram_text_error

from service.config.schema import TelegramConfig
from service.render.builtin.chat import AMBER, GREEN, RED, colour
from service.render.builtin.specs import SPECS
from service.sinks import discord, teams, telegram
from sink_contract import outgoing
from test_messages import FIXTURES, load, render

CHAT_KINDS = ["telegram", "discord", "teams"]
HOSTILE = (
    "@everyone <b>negrito</b> <script>alert(1)</script> **bold** _it_ [x](https://evil.example)"
    " & &amp; <@123> ~~s~~ `c` # t\n- item\n"
)
CFG = TelegramConfig(token="1:" + "a" * 30, chat_id=-100)


def payload(kind: str, message: dict[str, Any]) -> dict[str, Any]:
    """What the sink of ``kind`` would send for ``message`` (its own pure builder)."""
    out = outgoing(message=message)
    if kind == "telegram":
        return telegram.build_payload(CFG, out)
    if kind == "discord":
        return discord.build_payload(out)
    return teams.build_payload(out)


def provider_errors(kind: str, body: dict[str, Any]) -> Any:
    """What the provider's checks (the local fakes' validators) say about ``body``."""
    if kind == "telegram":
        return telegram_text_error(body["text"])
    if kind == "discord":
        return discord_errors(body) or None
    too_big = len(msgspec.json.encode(body)) > TEAMS_LIMIT
    return teams_errors(body) or (["too large"] if too_big else None)


def hostile(node: Any) -> Any:
    """Every string value replaced by a long run of HOSTILE (keys kept)."""
    if isinstance(node, dict):
        return {k: hostile(v) for k, v in node.items()}
    if isinstance(node, list):
        return [hostile(v) for v in node]
    return HOSTILE * 60 if isinstance(node, str) else node


def visible_telegram(text: str) -> str:
    """The text a Telegram user sees (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]*>", "", text))


@pytest.mark.parametrize("kind", CHAT_KINDS)
@pytest.mark.parametrize("event", FIXTURES)
def test_every_event_renders_within_the_providers_rules(event: str, kind: str) -> None:
    """Each fixture's built-in message has the documented shape and passes the provider's checks."""
    message = render(event, kind)
    assert (
        set(message)
        == {"telegram": {"text"}, "discord": {"content", "embeds"}, "teams": {"card"}}[kind]
    )
    body = payload(kind, message)
    assert provider_errors(kind, body) is None
    headline = SPECS[event].headline
    shown = (
        visible_telegram(body["text"]) if kind == "telegram" else msgspec.json.encode(body).decode()
    )
    assert headline in shown


@pytest.mark.parametrize("kind", CHAT_KINDS)
@pytest.mark.parametrize("event", FIXTURES)
def test_hostile_payloads_stay_inert_and_within_limits(event: str, kind: str) -> None:
    """Huge values full of mentions, HTML and Markdown are cut to the limits and shown as text."""
    envelope = hostile(load(event))
    envelope["event"] = event
    body = payload(kind, render(event, kind, envelope))
    assert provider_errors(kind, body) is None
    if kind == "telegram":
        assert "<script" not in body["text"] and "<b>negrito" not in body["text"]
        return
    text = msgspec.json.decode(msgspec.json.encode(body), type=Any)
    for leaf in _strings(text):
        assert not re.search(r"(?<!\\)\*\*bold|(?<!\\)_it|(?<!\\)\[x\]", leaf), leaf
        assert kind == "teams" or not re.search(r"(?<!\\)@everyone|(?<!\\)<b>", leaf), leaf
    if kind == "discord":
        assert body["allowed_mentions"] == {"parse": []} and len(body["content"]) <= 2000


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_a_hostile_buyer_name_is_shown_literally(kind: str) -> None:
    """The buyer name arrives as the same characters, only escaped."""
    envelope = load("myeduzz.invoice_paid")
    envelope["data"]["buyer"]["name"] = HOSTILE
    body = payload(kind, render("myeduzz.invoice_paid", kind, envelope))
    if kind == "telegram":
        assert HOSTILE.strip() in visible_telegram(body["text"])
        return
    field_values = [leaf for leaf in _strings(body) if "negrito" in leaf]
    mention = "\\@everyone" if kind == "discord" else "@everyone"  # Teams cards have no mentions
    assert field_values and all(
        mention in v and "\\*\\*bold\\*\\* \\_it\\_ \\[x\\]" in v for v in field_values
    )


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_buyer_contact_data_is_masked(kind: str) -> None:
    """E-mail addresses are masked in every chat channel, as in Slack."""
    envelope = load("myeduzz.invoice_paid")
    body = msgspec.json.encode(
        payload(kind, render("myeduzz.invoice_paid", kind, envelope))
    ).decode()
    assert envelope["data"]["buyer"]["email"] not in body
    assert "R$ 301,50" in body or "R$\\u00a0301,50" in body


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_unknown_events_get_a_generic_message(kind: str) -> None:
    """An event without a spec lists its data fields and still passes the checks."""
    envelope = {"event": "acme.thing_happened", "data": {"a": 1, "b": {"c": "<b>x</b>"}}}
    body = payload(kind, render("acme.thing_happened", kind, envelope))
    assert provider_errors(kind, body) is None
    shown = visible_telegram(body["text"]) if kind == "telegram" else " ".join(_strings(body))
    assert ("acme.thing_happened" if kind == "telegram" else "acme.thing\\_happened") in shown
    assert "<b>x</b>" in shown if kind != "discord" else "\\<b\\>x\\</b\\>" in shown


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_empty_data_still_renders(kind: str) -> None:
    """A payload without data gives placeholders, never an invalid message."""
    for event in FIXTURES:
        body = payload(kind, render(event, kind, {"event": event, "data": {}}))
        assert provider_errors(kind, body) is None


@pytest.mark.parametrize(
    ("event", "expected"),
    [("myeduzz.invoice_paid", GREEN), ("myeduzz.invoice_refunded", RED),
     ("myeduzz.invoice_chargeback", RED), ("myeduzz.invoice_waiting_payment", AMBER),
     ("sun.cart_abandonment", RED)],
)  # fmt: skip
def test_discord_colour_follows_the_kind_of_event(event: str, expected: int) -> None:
    """Gains are green, losses red, pending amber."""
    assert colour(event) == expected
    assert render(event, "discord")["embeds"][0]["color"] == expected


def test_links_become_a_teams_button_and_a_discord_title_link() -> None:
    """The boleto link is an Action.OpenUrl on Teams and the embed url on Discord."""
    event = "myeduzz.invoice_waiting_payment"
    card = render(event, "teams")["card"]
    assert card["actions"][0]["type"] == "Action.OpenUrl" and card["actions"][0]["url"].startswith(
        "https://"
    )
    assert render(event, "discord")["embeds"][0]["url"].startswith("https://")
    assert '<a href="https://' in render(event, "telegram")["text"]


def test_an_unsafe_link_is_dropped() -> None:
    """A javascript: URL never becomes a link or button."""
    event = "myeduzz.invoice_waiting_payment"
    envelope = load(event)
    envelope["data"]["bankslipUrl"] = "javascript:alert(1)"
    envelope["data"].pop("billetUrl", None)
    assert render(event, "teams", envelope)["card"]["actions"] == []
    assert "javascript" not in render(event, "telegram", envelope)["text"]
    assert (
        "url"
        not in discord.build_payload(outgoing(message=render(event, "discord", envelope)))[
            "embeds"
        ][0]
    )


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def test_author_templates_escape_payload_values_per_channel() -> None:
    """A route's own template: HTML-escaped for Telegram, Markdown-escaped for Discord and
    Teams, and URL keys left as they are."""
    from service.render.templates import compile_template

    context = {"data": {"name": "<b>@everyone**</b>", "link": "https://e.com/a_b"}}
    tg = compile_template({"text": "<b>{{ data.name }}</b>"}, kind="telegram").render(context)
    assert tg == {"text": "<b>&lt;b&gt;@everyone**&lt;/b&gt;</b>"}
    dc = compile_template(
        {"content": "{{ data.name }}", "embeds": [{"url": "{{ data.link }}"}]}, kind="discord"
    ).render(context)
    assert dc == {
        "content": "\\<b\\>\\@everyone\\*\\*\\</b\\>",
        "embeds": [{"url": "https://e.com/a_b"}],
    }
    body = [{"type": "TextBlock", "text": "{{ data.name }}"}]
    card = compile_template({"card": {"body": body, "iconUrl": "{{ data.link }}"}}, kind="teams")
    rendered = card.render(context)["card"]
    assert rendered["body"][0]["text"] == "<b>@everyone\\*\\*</b>"  # Teams shows tags as text
    assert rendered["iconUrl"].endswith("a_b")
