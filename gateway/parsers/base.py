"""The protocol every format module follows (one module per format).

A parser is a *module* exposing three names, like python-stdnum's number
modules or beangulp's importers::

    FORMAT: str                                          # the format id, e.g. "ubl"
    OPTIONS: frozenset[str]                              # the per-channel options it understands
    def sniff(head: bytes, name: str) -> bool            # cheap: looks at the first bytes only
    def parse(data, limits, options) -> ParseResult      # pure: bytes in, model + issues out

``options`` are the channel's ``parser_options`` (a mapping profile will be one);
the configuration refuses a name the channel's format does not list in ``OPTIONS``.

``parse`` never raises for bad content: it returns a :class:`ParseResult`
whose ``issues`` (file level) or ``rejected`` (record level) say what is
wrong, with a location. It raises only for programming errors.
A parser never knows where its bytes came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from gateway.limits import Limits
from gateway.model import ParseResult

#: How many leading bytes ``sniff`` receives. Official ZUGFeRD/CII samples open
#: with a 5.7 KB licence comment before the root element, so 4 KB was too short.
SNIFF_BYTES = 64 * 1024


#: A channel's options for its parser: read-only, names checked by the configuration.
ParserOptions = Mapping[str, object]
NO_OPTIONS: ParserOptions = MappingProxyType({})


class Parser(Protocol):
    FORMAT: str
    OPTIONS: frozenset[str]

    def sniff(self, head: bytes, name: str) -> bool: ...

    def parse(self, data: bytes, limits: Limits, options: ParserOptions = NO_OPTIONS) -> ParseResult: ...
