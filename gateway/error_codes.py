"""The issue codes as documented in ``docs/error-codes.md``, for ``gateway explain``.

The document is the one source (a test keeps it complete against the code); this reads
its table rather than keeping a second copy of every explanation in Python. The document
ships inside the package (:mod:`gateway.shipped`), so ``gateway explain`` works from any
installation, not only from a checkout.
"""

from __future__ import annotations

import re
from importlib.resources.abc import Traversable

from gateway.shipped import shipped

ERROR_CODES_DOC = shipped("docs", "error-codes.md")
_ROW = re.compile(r"^\| `([^`]+)`(?: … `([^`]+)`)? \| ([^|]+) \| (.+) \|$")


def load_error_codes(path: Traversable = ERROR_CODES_DOC) -> dict[str, tuple[str, str]]:
    """code -> (level, meaning); a row naming a range (``BR-DEC-09`` … ``BR-DEC-18``) gives each code."""
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
