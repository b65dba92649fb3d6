"""The e-invoice keys: a contract's profiles, French rules and assignment mention; a channel's Schematron."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import check_settings, load_settings
from gateway.config.schema import ACCEPTABLE_PROFILES
from gateway.settings import ASSIGNMENT_MENTION_LEVELS, DEFAULT_ACCEPTED_PROFILES, PROFILES

ConfigWith = Callable[..., Path]
CONTRACT = ("notified = false", "notified = false\n{}")
CHANNEL = ('format = "ubl"', 'format = "ubl"\n{}')


def _with(config_with: ConfigWith, anchor: tuple[str, str], line: str) -> Path:
    return config_with((anchor[0], anchor[1].format(line)))


def test_the_defaults(config_with: ConfigWith) -> None:
    settings = load_settings(config_with())
    acme = settings.clients[0]
    assert acme.contract.br_fr is False
    assert acme.contract.accepted_profiles == DEFAULT_ACCEPTED_PROFILES
    assert acme.contract.assignment_mention == "warning"
    assert acme.inbound[0].schematron is True


def test_the_keys_are_read(config_with: ConfigWith) -> None:
    path = config_with(
        (CONTRACT[0], CONTRACT[1].format('br_fr = true\naccepted_profiles = ["en16931", "minimum"]\n'
                                         'assignment_mention = "fatal"')),
        (CHANNEL[0], CHANNEL[1].format("schematron = false")),
    )  # fmt: skip
    acme = load_settings(path).clients[0]
    assert (acme.contract.br_fr, acme.contract.accepted_profiles) == (True, ("en16931", "minimum"))
    assert acme.contract.assignment_mention == "fatal"
    assert acme.inbound[0].schematron is False


@pytest.mark.parametrize(
    ("anchor", "line", "problem"),
    [
        (CONTRACT, "br_fr = 1", "clients.acme.contract.br_fr: must be true or false without quotes (got 1)"),
        (CONTRACT, "accepted_profiles = []", "clients.acme.contract.accepted_profiles: must not be empty"),
        (
            CONTRACT,
            'accepted_profiles = ["en16931", "comfort"]',
            'clients.acme.contract.accepted_profiles: must be "minimum", "basicwl", "basic", "en16931", '
            '"extended", "extended-ctc-fr", "xrechnung" or "peppol" (got "comfort")',
        ),
        (
            CONTRACT,
            'accepted_profiles = ["zugferd1"]',
            'clients.acme.contract.accepted_profiles: "zugferd1" cannot be accepted: ZUGFeRD 1.0 predates '
            "EN 16931 and no official rule set checks it, so its verdict is always invalid",
        ),
        (
            CONTRACT,
            'assignment_mention = "strict"',
            'clients.acme.contract.assignment_mention: must be "fatal", "warning" or "off" (got "strict")',
        ),
        (
            CHANNEL,
            'schematron = "yes"',
            'clients.acme.inbound[acme-inbox].schematron: must be true or false without quotes (got "yes")',
        ),
    ],
)
def test_a_wrong_value_is_reported_with_its_key(
    config_with: ConfigWith, anchor: tuple[str, str], line: str, problem: str
) -> None:
    assert check_settings(_with(config_with, anchor, line)) == [problem]


def test_the_profile_vocabularies_are_in_step() -> None:
    """settings.py keeps its own list so that checking a configuration does not load the parsers."""
    from gateway.parsers.profiles import PROFILES as PARSER_PROFILES

    assert PROFILES == PARSER_PROFILES
    assert set(ACCEPTABLE_PROFILES) == set(PROFILES) - {"zugferd1"}
    assert set(DEFAULT_ACCEPTED_PROFILES) <= set(ACCEPTABLE_PROFILES)
    assert ASSIGNMENT_MENTION_LEVELS == ("fatal", "warning", "off")
