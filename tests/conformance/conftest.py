"""The conformance tests import their helpers by name (pytest runs in importlib mode): this folder's
:mod:`official_check`, the corpus helper of tests/parsers (:mod:`corpus_support`) and the PDF builders
of its attachment tests, and the end-to-end helpers of tests/e2e (:mod:`e2e_support`)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "parsers", HERE.parent / "e2e"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
