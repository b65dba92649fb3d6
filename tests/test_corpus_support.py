"""The corpus tests prove something only where the corpus is: in CI a missing corpus fails them."""

from __future__ import annotations

from pathlib import Path

import corpus_support
import pytest


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)])
def test_a_missing_corpus_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(corpus_support, "CORPUS", tmp_path / "missing")
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        corpus_support.require_corpus()
    with pytest.raises(outcome):
        corpus_support.corpus_bytes("cii-xml/cen__CII_example2.xml")
    assert corpus_support.corpus_files("facturx-pdf") == []  # parametrised tests get no cases
