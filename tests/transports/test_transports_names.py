"""safe_name: hostile names are refused, ordinary ones pass unchanged."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.transports.names import MAX_NAME_BYTES, MAX_NAME_CHARS, quarantine_name, safe_name

ORDINARY = [
    "facture.pdf",
    "Bordereau 2025-03 (v2).csv",
    "FA_2025_0001+avoir,final@acme=ok.xml",
    "relevé-été-ñandú-Straße-œuvre.xlsx",
    "REM_20250310_0001.json",
    "a",
    "x" * MAX_NAME_CHARS,
    "CONSOLE.csv",  # only the exact device names are reserved
    "COM10.txt",
]

HOSTILE = [
    "",
    ".",
    "..",
    "../etc/passwd",
    "..\\..\\windows\\system32",
    "/etc/cron.d/evil",
    "sub/dir.csv",
    "a\0.csv",
    "line\nbreak.csv",
    "bell\x07.csv",
    "esc\x1b[2J.csv",
    "del\x7f.csv",
    ".bashrc",
    ".hidden.csv",
    "-rf",
    " leading.csv",
    "trailing.csv ",
    "trailing.",
    "x" * (MAX_NAME_CHARS + 1),
    "é" * 120,  # 120 characters but 240 UTF-8 bytes
    "CON",
    "con.csv",
    "Nul.tar.gz",
    "COM1.csv",
    "lpt9",
    "AUX .txt",
    "a*b.csv",
    "what?.csv",
    "pipe|.csv",
    'quote".csv',
    "tilde~1.csv",
    "semi;colon.csv",
    "cyrillic-аpple.csv",  # U+0430, looks like "a"
    "rtl\u202egpj.exe",
    "zero\u200bwidth.csv",
    "fullwidth\uff0fslash.csv",
    "surrogate\udcff.csv",
]


@pytest.mark.parametrize("name", ORDINARY)
def test_names_ordinary_names_pass_unchanged(name: str) -> None:
    assert safe_name(name) == name


@pytest.mark.parametrize("name", HOSTILE)
def test_names_hostile_names_are_refused(name: str) -> None:
    assert safe_name(name) is None


def test_names_decomposed_accents_are_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "relevé.csv")
    assert decomposed != "relevé.csv"
    assert safe_name(decomposed) == "relevé.csv"


def test_names_quarantine_names_are_safe_and_distinct() -> None:
    names = {quarantine_name(raw) for raw in HOSTILE}
    assert len(names) == len(HOSTILE)
    assert all(safe_name(name) == name for name in names)


@given(st.text(max_size=260))
def test_names_never_returns_anything_unsafe(name: str) -> None:
    result = safe_name(name)
    if result is None:
        return
    assert "/" not in result and "\\" not in result and "\0" not in result
    assert result not in (".", "..") and not result.startswith(".")
    assert len(result) <= MAX_NAME_CHARS and len(result.encode()) <= MAX_NAME_BYTES
    assert all(char.isprintable() for char in result)
    assert safe_name(result) == result  # stable: a safe name is its own safe form


@given(st.text(alphabet="abcXYZ019._-() +,@=", min_size=1, max_size=60))
def test_names_allow_list_alone_is_refused_only_for_shape(name: str) -> None:
    result = safe_name(name)
    shape_problem = name[0] in ". -" or name[-1] in ". "
    assert (result is None) == shape_problem
    if result is not None:
        assert result == name


@given(st.text(max_size=40), st.sampled_from(["../", "/", "\\", "\0", "\n"]), st.text(max_size=40))
def test_names_any_separator_or_control_is_refused(head: str, bad: str, tail: str) -> None:
    assert safe_name(head + bad + tail) is None
