"""Per-channel parser options: handed to the parser, names checked against what it understands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway import parsers
from gateway.config import load_settings
from gateway.config.schema import FORMAT_OPTIONS, INBOUND_FORMATS
from gateway.errors import ConfigError


def test_the_configuration_knows_what_every_parser_takes() -> None:
    assert set(INBOUND_FORMATS) == {"auto", *parsers.FORMATS}
    assert {p.FORMAT: p.OPTIONS for p in parsers.PARSERS} == FORMAT_OPTIONS


def test_an_option_the_format_does_not_take_is_refused_with_its_key_path(
    config_with: Callable[..., Path],
) -> None:
    path = config_with(('format = "ubl"', 'format = "ubl"\nparser_options = { profile = "bpce-275" }'))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [
        "clients.acme.inbound[acme-inbox].parser_options: unknown option(s) profile: "
        "the format 'ubl' takes no options yet"
    ]


def test_no_options_is_an_empty_read_only_mapping(config_with: Callable[..., Path]) -> None:
    settings = load_settings(config_with())
    channel = settings.clients[0].inbound[0]
    assert dict(channel.parser_options) == {}
    with pytest.raises(TypeError):
        channel.parser_options["x"] = 1  # type: ignore[index]
