"""Config loading: strict, every error at once with its YAML path; ``ponte check``."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.__main__ import main
from service.config.load import load_config, parse_config
from service.config.schema import parse_duration
from service.config.settings import load_settings
from service.errors import ConfigError

BAD = sorted((Path(__file__).parent / "configs" / "bad").glob("*.yaml"))
ROOT = Path(__file__).resolve().parent.parent


def expected(path: Path) -> str:
    """The ``# expect:`` line of a bad-config file."""
    return path.read_text().splitlines()[0].removeprefix("# expect: ")


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_config_names_the_problem(path):
    """Each bad config is refused with a message naming its YAML path."""
    with pytest.raises(ConfigError) as info:
        load_settings(str(path))
    assert any(expected(path) in e for e in info.value.errors), info.value.errors


def test_every_error_is_reported_at_once(tmp_path):
    """Several problems in several sections come back together."""
    raw = {
        "server": {"port": "x"},
        "sinks": {"a": {"type": "slack"}, "b": {"type": "email", "host": "h", "from": "f", "to": ["t"], "prt": 1}},
        "delivery": {"timeout": "soon"},
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={})
    assert len(info.value.errors) == 4


def test_env_substitution_with_default():
    """${VAR} is replaced from the environment; ${VAR:-default} falls back."""
    raw = {"server": {"host": "${HOST_X}", "admin_token": "${TOKEN_X:-fallback}"}}
    config = parse_config(raw, env={"HOST_X": "0.0.0.0"})
    assert (config.server.host, config.server.admin_token) == ("0.0.0.0", "fallback")


@pytest.mark.parametrize(("text", "seconds"),
                         [("500ms", 0.5), ("5s", 5), ("1m", 60), ("2h", 7200), ("1d", 86400), (3, 3)])
def test_durations(text, seconds):
    """Durations accept ms/s/m/h/d and plain seconds."""
    assert parse_duration(text) == seconds


def test_missing_file_is_a_config_error(tmp_path):
    """A config path that does not exist is reported plainly."""
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(str(tmp_path / "nope.yaml"))


def test_default_config_is_valid():
    """The shipped config/ponte.yaml passes the full check."""
    load_settings(str(ROOT / "config" / "ponte.yaml"))


def test_ponte_check_exit_codes(capsys):
    """ponte check exits 0 on a good config and 1 with every error on a bad one."""
    assert main(["check", "--config", str(ROOT / "config" / "ponte.yaml")]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["check", "--config", str(Path(__file__).parent / "configs" / "bad" / "undefined_sink.yaml")]) == 1
    err = capsys.readouterr().err
    assert "routes[0].to[0]: unknown sink 'vendass'" in err


def test_empty_variable_means_unset():
    """``${VAR:-}`` that expands to nothing leaves an optional key unset (and drops a list item)."""
    raw = {"server": {"admin_token": "${TOKEN_X:-}"},
           "sources": {"e": {"type": "eduzz", "secrets": ["${A_X:-}", "kept"]}},
           "sinks": {"m": {"type": "email", "host": "h", "from": "f", "to": ["t"], "username": "${U_X:-}"}}}
    config = parse_config(raw, env={})
    assert config.server.admin_token is None
    assert config.sources["e"].secrets == ["kept"]
    assert config.sinks["m"].username is None


def test_numbers_from_environment_variables():
    """A port written as ${PORT} is read as a number."""
    assert parse_config({"server": {"port": "${P_X}"}}, env={"P_X": "9090"}).server.port == 9090


def test_check_warns_about_likely_mistakes(tmp_path, capsys):
    """A sink no route uses is a warning (exit 0); a misspelt Eduzz event is an error."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "sources: {eduzz: {type: eduzz, secrets: [a-real-secret-4f9c1d2e8b7a]}}\n"
        "sinks: {a: {type: file, path: /tmp/a}, b: {type: file, path: /tmp/b}}\n"
        "routes: [{name: r, events: [myeduzz.invoice_paid], to: [a]}]\n"
    )
    assert main(["check", "--config", str(path)]) == 0
    assert "sinks.b: no route sends anything to it" in capsys.readouterr().err


def test_reference_errors_are_reported_beside_structural_ones():
    """An unknown sink in a route is reported in the same run as a type error elsewhere."""
    raw = {"server": {"port": "x"}, "sinks": {"a": {"type": "file", "path": "/tmp/a"}},
           "routes": [{"name": "r", "events": ["*"], "to": ["b"]}]}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={})
    text = "\n".join(info.value.errors)
    assert "server.port" in text and "routes[0].to[0]: unknown sink 'b'" in text


def test_an_empty_source_secret_from_the_environment_is_an_error(tmp_path, capsys, monkeypatch):
    """``EDUZZ_SECRET=""``: the source would refuse every request, so check exits 1."""
    path = tmp_path / "c.yaml"
    path.write_text(
        'sources: {eduzz: {type: eduzz, secrets: ["${EDUZZ_SECRET}"]}}\n'
        "sinks: {a: {type: file, path: /tmp/a}}\n"
        "routes: [{name: r, events: ['*'], to: [a]}]\n"
    )
    monkeypatch.setenv("EDUZZ_SECRET", "")
    assert main(["check", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "sources.eduzz: no secret configured" in err and "warning" not in err
