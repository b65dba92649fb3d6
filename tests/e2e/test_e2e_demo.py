"""The README's demo, run as a user would, twice; and its outputs against the golden files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_support import REPO, dump_ledger, run_gateway

pytestmark = pytest.mark.slow

GOLDEN = REPO / "samples" / "demo" / "expected"


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
        assert produced[name] == data, f"{name} differs from the golden file"
