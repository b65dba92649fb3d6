"""The protocol every format module follows (one module per format).

A parser is a *module* exposing three names, like python-stdnum's number
modules or beangulp's importers::

    FORMAT: str                                          # the format id, e.g. "ubl"
    def sniff(head: bytes, name: str) -> bool            # cheap: looks at the first bytes only
    def parse(data: bytes, limits: Limits) -> ParseResult  # pure: bytes in, model + issues out

``parse`` never raises for bad content: it returns a :class:`ParseResult`
whose ``issues`` (file level) or ``rejected`` (record level) say what is
wrong, with a location. It raises only for programming errors.
A parser never knows where its bytes came from.
"""

from __future__ import annotations

from typing import Protocol

from gateway.limits import Limits
from gateway.model import ParseResult

#: How many leading bytes ``sniff`` receives. Official ZUGFeRD/CII samples open
#: with a 5.7 KB licence comment before the root element, so 4 KB was too short.
SNIFF_BYTES = 64 * 1024


class Parser(Protocol):
    FORMAT: str

    def sniff(self, head: bytes, name: str) -> bool: ...

    def parse(self, data: bytes, limits: Limits) -> ParseResult: ...
