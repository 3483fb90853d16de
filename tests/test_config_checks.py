"""``ponte check`` catches what never fires; config errors are one line, name their variable
and never show a secret (issue 11, items 18 and 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.__main__ import main
from service.config.load import parse_config
from service.errors import ConfigError

SINK = "sinks: {a: {type: file, path: /tmp/ponte-a.jsonl}}\n"
ROUTE = "routes: [{name: r, events: ['*'], to: [a]}]\n"


def write(tmp_path: Path, text: str) -> str:
    """Write a config file and return its path."""
    path = tmp_path / "ponte.yaml"
    path.write_text(text)
    return str(path)


def check(path: str, *extra: str) -> int:
    """Run ``ponte check`` on ``path``."""
    return main(["check", "--config", path, *extra])


def test_no_sources_is_a_warning_and_strict_refuses_it(tmp_path, capsys):
    """A config without sources receives nothing: a warning; --strict exits 1 on it."""
    path = write(tmp_path, SINK + ROUTE)
    assert check(path) == 0
    assert "warning: sources: no source is configured" in capsys.readouterr().err
    assert check(path, "--strict") == 1
    assert "refused by --strict" in capsys.readouterr().err


def test_strict_passes_a_clean_config(tmp_path, capsys):
    """--strict exits 0 when there is nothing to warn about."""
    path = write(tmp_path, "sources: {eduzz: {type: eduzz, secrets: [x1]}}\n" + SINK + ROUTE)
    assert check(path, "--strict") == 0
    assert "ok (1 sources" in capsys.readouterr().out


def test_empty_file_is_an_error(tmp_path, capsys):
    """An empty file (or only comments) is refused, not run as a Ponte that does nothing."""
    assert check(write(tmp_path, "# nothing yet\n")) == 1
    assert "the file is empty" in capsys.readouterr().err


def test_duplicate_routes_key_is_refused(tmp_path, capsys):
    """Two routes: blocks are refused with both lines instead of dropping the first."""
    text = "sources: {eduzz: {type: eduzz, secrets: [x1]}}\n" + SINK + ROUTE + ROUTE
    assert check(write(tmp_path, text)) == 1
    assert "ponte.yaml:4:1: duplicate key 'routes' (first at line 3)" in capsys.readouterr().err


def test_unprefixed_event_is_a_warning_beside_a_generic_source(tmp_path, capsys):
    """With a non-Eduzz source, an unprefixed Eduzz name may be that source's: a warning."""
    text = (
        "sources: {gh: {type: hmac, header: x-sig, secrets: [x1]}}\n"
        + SINK
        + "routes: [{name: r, events: [invoice_paid], to: [a]}]\n"
    )
    assert check(write(tmp_path, text)) == 0
    assert "'invoice_paid' never matches an Eduzz event" in capsys.readouterr().err


def test_yaml_syntax_error_is_one_line_with_line_and_column(tmp_path, capsys):
    """A YAML syntax error reads file:line:col: message, on one line."""
    path = write(tmp_path, "server:\n  port: 8080\n bad: [\n")
    assert check(path) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[1].strip().startswith(f"{path}:3:2: ")
    assert len(lines) == 2


def test_missing_variable_is_named_once_without_follow_on_errors():
    """A slack sink whose only URL variable is unset gets one error, naming the variable."""
    raw = {"sinks": {"v": {"type": "slack", "webhook_url": "${SLACK_X}"}}}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={})
    assert info.value.errors == ["sinks.v.webhook_url: environment variable SLACK_X is not set"]


def test_bad_value_from_a_variable_names_it_and_hides_the_value():
    """A bad value that came from ${VAR} names the variable and never shows the value."""
    raw = {"server": {"read_timeout": "${T_X}"}, "delivery": {"max_attempts": "${M_X}"}}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={"T_X": "hunter2-secret", "M_X": "eighty"})
    text = "\n".join(info.value.errors)
    assert "hunter2" not in text and "eighty" not in text
    assert "server.read_timeout: invalid duration" in text and "${T_X}" in text
    assert "delivery.max_attempts:" in text and "${M_X}" in text


def test_secret_written_in_the_file_is_not_echoed():
    """A value under a secret-like key is cut out of an error about it."""
    raw = {
        "sinks": {
            "w": {
                "type": "webhook",
                "url": "https://x.example/h",
                "signing_secret": "s3cr3t-value",
                "timeout": "s3cr3t-value",
            }
        }
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={})
    assert "s3cr3t-value" not in "\n".join(info.value.errors)


@pytest.mark.parametrize(("env", "expected"), [({}, "d"), ({"H_X": ""}, "d"), ({"H_X": "h"}, "h")])
def test_default_follows_the_shell(env, expected):
    """${VAR:-default} uses the default when VAR is unset or empty, as the shell does."""
    assert parse_config({"server": {"host": "${H_X:-d}"}}, env=env).server.host == expected


def test_a_secret_pasted_elsewhere_is_not_echoed_by_later_checks(tmp_path, capsys):
    """A sink's header value that also appears in a broken regex is cut out of the regex error."""
    text = (
        "sources: {eduzz: {type: eduzz, secrets: [x1]}}\n"
        "sinks: {crm: {type: webhook, url: 'https://crm.example/h',"
        " headers: {Authorization: 'Bearer tok(3n'}}}\n"
        "routes: [{name: r, events: ['*'], to: [crm],"
        " where: {data.note: {regex: 'Bearer tok(3n'}}}]\n"
    )
    assert check(write(tmp_path, text)) == 1
    err = capsys.readouterr().err
    assert "routes[0].where.data.note.regex: invalid regex" in err and "tok(3n" not in err


SOURCE = "sources: {eduzz: {type: eduzz, secrets: [a-real-secret-4f9c1d2e8b7a]}}\n"


def test_a_misspelt_event_with_a_known_prefix_is_an_error_with_its_suggestion(tmp_path, capsys):
    """``myeduzz.invoice_payed`` names no event: check exits 1 and suggests the right name."""
    path = write(tmp_path, SOURCE + SINK + "routes: [{name: r, events: [myeduzz.invoice_payed], to: [a]}]\n")
    assert check(path) == 1
    err = capsys.readouterr().err
    assert ("routes[0].events[0]: 'myeduzz.invoice_payed' matches no Eduzz event "
            "(did you mean 'myeduzz.invoice_paid'?)") in err
    assert "warning" not in err


def test_where_paths_are_checked_against_the_suggested_event(tmp_path, capsys):
    """A misspelt glob does not switch off the check of the route's ``where`` paths."""
    route = ("routes: [{name: r, events: [myeduzz.invoice_payed], "
             "where: {data.pricee.value: {gte: 1}}, to: [a]}]\n")
    assert check(write(tmp_path, SOURCE + SINK + route)) == 1
    assert "routes[0].where.data.pricee.value: 'data.pricee.value' does not exist" in capsys.readouterr().err


def test_missing_required_keys_are_listed_at_once_in_our_words():
    """A route with only a name: both missing keys in one line, no msgspec wording."""
    with pytest.raises(ConfigError) as info:
        parse_config({"routes": [{"name": "q"}]}, env={})
    assert "routes[0]: missing keys `events`, `to`" in info.value.errors
    assert not any("Object missing" in e for e in info.value.errors)


def test_a_single_missing_key_reads_missing_key():
    """One missing key: ``missing key `to```."""
    with pytest.raises(ConfigError) as info:
        parse_config({"routes": [{"name": "q", "events": ["*"]}]}, env={})
    assert info.value.errors == ["routes[0]: missing key `to`"]


def test_an_enum_error_lists_the_allowed_values():
    """``format: slak`` says which values exist."""
    with pytest.raises(ConfigError) as info:
        parse_config({"sinks": {"a": {"type": "file", "path": "/tmp/a", "format": "slak"}}}, env={})
    (error,) = info.value.errors
    assert error.startswith("sinks.a.format: unknown value 'slak' (one of: ") and "slack" in error
