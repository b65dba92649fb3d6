"""The public corpus (``shared/corpus``, next to the repository), read in place and never copied.

Without it the corpus tests skip, except in CI (``CI=true``) where they fail: CI must
prove them. Parametrised tests list the files at import time, so a missing corpus gives
no cases at all; every module that does so also has a test calling :func:`require_corpus`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
FOLDERS = ("facturx-pdf", "cii-xml", "ubl-xml")  # not the en16931-unit-tests subfolders


def unavailable(reason: str) -> NoReturn:
    """Fail the test in CI (``CI=true``: CI must prove the corpus tests), skip it elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def require_corpus() -> Path:
    """The corpus folder; skip the test without it, fail it in CI."""
    if not all((CORPUS / folder).is_dir() for folder in FOLDERS):
        unavailable(f"public corpus not present at {CORPUS}")
    return CORPUS


def corpus_bytes(relative: str) -> bytes:
    """One corpus file's bytes (``folder/name``); skip without the corpus, fail in CI."""
    return (require_corpus() / relative).read_bytes()


def corpus_files(folder: str) -> list[Path]:
    """The files of one corpus folder (subfolders left out), sorted; empty without the corpus."""
    directory = CORPUS / folder
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file())
