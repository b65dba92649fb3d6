"""The README's demo, run as a user would, twice; and its outputs against the golden files.

Text outputs (CSV, French CSV, JSON) must equal their golden files byte for byte. The XLSX and
PDF files are byte-stable too (same remittance, same bytes: tests/writers and the crash tests
check it), but their bytes also depend on the XlsxWriter, fpdf2 and zlib versions installed, so
against the golden files they are compared as a reader sees them: every cell of every sheet
(openpyxl), every cell of every page (pypdf).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_support import REPO, dump_ledger, run_gateway
from people_formats import (
    cells_of,
    french_decimal,
    french_sums,
    french_totals,
    json_totals,
    pdf_decimal,
    pdf_rows,
    pdf_table,
    sheet_table,
    texts,
    workbook,
    xlsx_sums,
)

from gateway.writers import remittance_pdf

pytestmark = pytest.mark.slow

GOLDEN = REPO / "samples" / "demo" / "expected"

#: How a binary output is compared with its golden file: what a reader of it sees.
READ_BACK: dict[str, Callable[[bytes], object]] = {
    ".xlsx": cells_of,
    ".pdf": lambda data: [texts(row) for row in pdf_rows(data)],
}


def _totals(workdir: Path) -> list[dict[str, object]]:
    remittances = sorted((workdir / "out" / "factor").glob("REM_*.json"))
    return [json.loads(p.read_text(encoding="utf-8"))["totals"] for p in remittances]


def test_demo_twice_assigns_nothing_twice(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    first = run_gateway("demo", "--workdir", str(workdir), "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)["cycle"]
    assert report["remittances"], report
    assert list((workdir / "out" / "factor").glob("REM_*.csv")), "no remittance written"
    assert list((workdir / "clients" / "acme" / "out").glob("ACK_*.csv")), "no acknowledgement written"
    url = f"sqlite:///{workdir / 'var' / 'ledger.sqlite'}"
    keys_before = dump_ledger(url)["assignment_keys"]
    totals_before = _totals(workdir)

    second = run_gateway("demo", "--workdir", str(workdir), "--json", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)["cycle"]
    assert again["files"] == report["files"]
    assert again["remittances"] == []
    assert again["accepted_documents"] == 0
    assert dump_ledger(url)["assignment_keys"] == keys_before
    assert _totals(workdir) == totals_before

    acks = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (workdir / "clients" / "acme" / "out").glob("ACK_*.json")
    ]
    codes = {issue["code"] for ack in acks for issue in ack.get("file_issues", [])}
    assert "GW-DUPLICATE-FILE" in codes


def test_demo_outputs_match_the_golden_files(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    done = run_gateway("demo", "--workdir", str(workdir), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    produced = {
        p.relative_to(workdir).as_posix(): p.read_bytes()
        for folder in ("out/factor", "clients/acme/out", "clients/bravo/out")
        for p in sorted((workdir / folder).glob("[!.]*"))
    }
    golden = {
        p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in sorted(GOLDEN.rglob("*")) if p.is_file()
    }
    assert sorted(produced) == sorted(golden)
    for name, data in golden.items():
        read_back = READ_BACK.get(Path(name).suffix)
        if read_back is None:
            assert produced[name] == data, f"{name} differs from the golden file"
        else:
            assert read_back(produced[name]) == read_back(data), (
                f"{name} reads differently from the golden file"
            )
    assert any(name.endswith(".pdf") for name in golden) and any(name.endswith(".fr.csv") for name in golden)


def test_demo_remittances_for_people_carry_the_json_totals(tmp_path: Path) -> None:
    """After the demo, every remittance's XLSX, French CSV and PDF add up to its JSON's totals."""
    workdir = tmp_path / "demo"
    done = run_gateway("demo", "--workdir", str(workdir), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    factor = workdir / "out" / "factor"
    remittances = sorted(factor.glob("REM_*.json"))
    assert len(remittances) == 5
    for path in remittances:
        stem = path.name.removesuffix(".json")
        expected = json_totals(path.read_bytes())
        nets = {currency: t["net_total"] for currency, t in expected.items()}

        book = workbook((factor / f"{stem}.xlsx").read_bytes())
        assert xlsx_sums(sheet_table(book["Bordereau"])) == nets, stem
        assert xlsx_sums(sheet_table(book["Par débiteur"])) == nets, stem
        assert xlsx_sums(sheet_table(book["Totaux"]), "Total net") == nets, stem

        french = (factor / f"{stem}.fr.csv").read_bytes()
        assert french_sums(french) == nets, stem
        assert {c: french_decimal(row["Total net"]) for c, row in french_totals(french).items()} == nets, stem

        rows = pdf_rows((factor / f"{stem}.pdf").read_bytes())
        widths = [column.width for column in remittance_pdf.TOTALS_COLUMNS]
        _, totals = pdf_table(rows, "Totaux par devise (garanti / non garanti)", widths)
        for row in totals:
            currency, want = row[0], expected[row[0]]
            assert pdf_decimal(row[6], currency) == want["net_total"], stem
            assert pdf_decimal(row[7], currency) == want["guaranteed_total"], stem
            assert pdf_decimal(row[8], currency) == want["non_guaranteed_total"], stem
        assert sorted(row[0] for row in totals) == sorted(expected), stem
