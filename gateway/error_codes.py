"""The issue codes as documented in ``docs/error-codes.md``, for ``gateway explain``.

The document is the one source (a test keeps it complete against the code); this reads
its table rather than keeping a second copy of every explanation in Python. Official rule ids are
documented by family (``BR-FR-*``), the gateway's own codes one by one. The document
ships inside the package (:mod:`gateway.shipped`), so ``gateway explain`` works from any
installation, not only from a checkout.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from importlib.resources.abc import Traversable

from gateway.shipped import shipped

ERROR_CODES_DOC = shipped("docs", "error-codes.md")
_ROW = re.compile(r"^\| `([^`]+)`(?: … `([^`]+)`)? \| ([^|]+) \| (.+) \|$")


def find_error_code(code: str, codes: dict[str, tuple[str, str]]) -> tuple[str, tuple[str, str]] | None:
    """The row that documents ``code``: its own, else (for an official rule id, never a ``GW-`` code)
    the most specific family row whose pattern it matches (``BR-FR-*`` before ``BR-*``).

    >>> codes = {'BR-*': ('document', 'EN 16931'), 'BR-FR-*': ('document', 'French')}
    >>> find_error_code('BR-FR-05_BT-22-2', codes)
    ('BR-FR-*', ('document', 'French'))
    >>> find_error_code('GW-NOT-A-FAMILY', {'GW*': ('file', 'never a family')}) is None
    True
    """
    if code in codes:
        return code, codes[code]
    if code.startswith("GW-"):
        return None
    families = [pattern for pattern in codes if "*" in pattern and fnmatchcase(code, pattern)]
    if not families:
        return None
    best = max(families, key=lambda pattern: len(pattern.replace("*", "")))
    return best, codes[best]


def load_error_codes(path: Traversable = ERROR_CODES_DOC) -> dict[str, tuple[str, str]]:
    """code -> (level, meaning); a row naming a range (``BR-DEC-09`` … ``BR-DEC-18``) gives each code,
    a row naming a family (``BR-FR-*``) stays a pattern: :func:`find_error_code` matches it."""
    codes: dict[str, tuple[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        found = _ROW.match(line.strip())
        if found is None:
            continue
        first, last, level, meaning = found.groups()
        entry = (level.strip(), re.sub(r"`", "", meaning.strip()))
        codes[first] = entry
        if last is not None:
            prefix, start = first.rsplit("-", 1)
            end = last.rsplit("-", 1)[1]
            for number in range(int(start), int(end) + 1):
                codes[f"{prefix}-{number:0{len(start)}d}"] = entry
    return codes
