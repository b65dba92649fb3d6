r"""Control characters in text that came from outside, found and made harmless.

A value read from a client's file ends up on an operator's terminal, in a log,
in the ledger and in the acknowledgement the client's accountant reads. A NUL
truncates it in C-based tools, ``ESC [31m`` repaints a terminal, a DEL or a
C1 control confuses both, and a bidi override (``U+202E``) makes
``F-1001`` display as something else than what is stored ("Trojan Source").
None of them belongs in an invoice number or a name, so the gateway refuses
them and, when it has to show such a value, shows it escaped.

The characters concerned are Unicode's *Cc* category (``U+0000``–``U+001F``,
``U+007F``–``U+009F``) and the invisible bidi formatting controls
(``U+200E``/``U+200F``, ``U+061C``, ``U+202A``–``U+202E``, ``U+2066``–``U+2069``).
Free text (a note, payment terms) may hold TAB, LF and CR: ``multiline=True``.

Nearly every value is clean, so both functions first ask ``str.isprintable``
(one pass in C, true for any letter, accented or not); only a value that fails
it is searched character by character.

>>> find_controls("F-1001")
[]
>>> find_controls("F-\x1b[31m1")
[(2, '\x1b')]
>>> escape_controls("Café\x00\u202e")
'Café\\x00\\u202e'
"""

from __future__ import annotations

import re
import unicodedata

#: Invisible marks and embeddings that reorder how text is displayed.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL_RE = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
_CONTROL_MULTILINE_RE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}

#: The ASCII abbreviations people know control characters by (``ESC``, ``NUL``); C1 controls have
#: no name, bidi controls have their Unicode name.
_ASCII_NAMES = {
    chr(code): name
    for code, name in enumerate(
        (
            *("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF", "VT", "FF", "CR"),
            *("SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB"),
            *("ESC", "FS", "GS", "RS", "US"),
        )
    )
} | {"\x7f": "DEL"}


def find_controls(text: str, *, multiline: bool = False) -> list[tuple[int, str]]:
    r"""(position, character) of every control character in ``text``; ``[]`` when there is none.

    With ``multiline=True``, TAB, LF and CR are allowed (free text).

    >>> find_controls("a\tb\u202ec", multiline=True)
    [(3, '\u202e')]
    >>> find_controls("a\tb")
    [(1, '\t')]
    """
    if text.isprintable():
        return []
    pattern = _CONTROL_MULTILINE_RE if multiline else _CONTROL_RE
    return [(match.start(), match.group()) for match in pattern.finditer(text)]


def has_controls(text: str, *, multiline: bool = False) -> bool:
    """Whether :func:`find_controls` would find anything, without listing it."""
    if text.isprintable():
        return False
    pattern = _CONTROL_MULTILINE_RE if multiline else _CONTROL_RE
    return pattern.search(text) is not None


def escape_controls(text: str) -> str:
    r"""``text`` with every control character (TAB, LF and CR included) written as an escape.

    For showing a value, not for storing it back: ``\x1b`` stays readable and
    inert on a terminal, in a log line or a database column. Other text,
    accents and non-Latin scripts included, is returned unchanged (the very
    same object when there is nothing to escape). A backslash already in the
    text is left as it is, so the result is not meant to be decoded.

    >>> escape_controls("F\x001 \x7f\x85\t\u2066é")
    'F\\x001 \\x7f\\x85\\t\\u2066é'
    >>> text = "Société Générale"
    >>> escape_controls(text) is text
    True
    """
    if text.isprintable():
        return text
    return _CONTROL_RE.sub(_escape_match, text)


def describe_control(char: str) -> str:
    r"""``U+001B (ESC)``: the code point people can search for, and the name they know it by.

    >>> describe_control("\x00"), describe_control("\u202e"), describe_control("\x85")
    ('U+0000 (NUL)', 'U+202E (RIGHT-TO-LEFT OVERRIDE)', 'U+0085')
    """
    name = _ASCII_NAMES.get(char) or unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name})" if name else f"U+{ord(char):04X}"


def _escape_match(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
