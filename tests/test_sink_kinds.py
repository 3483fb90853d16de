"""Every sink type of the config union has one complete record, and every table reads it."""

from __future__ import annotations

import typing

import pytest

from service.config import checks
from service.config.schema import FileConfig, SinkConfig
from service.render.builtin.messages import builtin_template
from service.render.formats import FORMATS
from service.render.templates import compile_template
from service.sinks.registry import KINDS

UNION = typing.get_args(SinkConfig)
TAGS = [str(t.__struct_config__.tag) for t in UNION]
FILE_FORMATS = typing.get_args(typing.get_type_hints(FileConfig)["format"])


def test_every_type_in_the_union_is_registered_once():
    """The registry and the config union name the same types, each with its own Struct."""
    assert sorted(KINDS) == sorted(TAGS)
    for config in UNION:
        assert KINDS[str(config.__struct_config__.tag)].config is config


@pytest.mark.parametrize("tag", TAGS)
def test_a_record_is_complete(tag):
    """Its format exists, compiles a template, has built-in messages, and a layout if it digests."""
    kind = KINDS[tag]
    formats = [kind.format] if kind.format is not None else [FORMATS[f] for f in FILE_FORMATS]
    for fmt in formats:
        assert FORMATS[fmt.name] is fmt
        keys = sorted(fmt.template_keys or {"text"})
        assert compile_template({key: "{{ data.x }}" for key in keys}, kind=fmt.name)
        builtin_template("myeduzz.invoice_paid", fmt.name)  # None only where the body is forwarded
        assert (fmt.builders is None) == (fmt.name == "webhook")
    if kind.digests:
        assert all(fmt.layout is not None for fmt in formats if fmt.name != "google_sheets")


def test_a_file_sink_may_write_every_format_it_names():
    """``format:`` of a file sink only names formats that exist."""
    assert set(FILE_FORMATS) <= set(FORMATS)


def test_a_sink_type_without_a_format_is_a_config_error_with_its_path():
    """A template for a format that does not exist is reported at its YAML path, not raised."""
    errors: list[str] = []
    assert checks._compile({"text": "x"}, "pager", "UTC", "routes[0].to[0].template", errors) is None
    assert errors == ["routes[0].to[0].template: the 'pager' sink type has no message format "
                      "(service.render.formats)"]
