"""``gateway validate --client`` and ``run`` take the same decision on every file.

Every demo sample and every public corpus file goes once through the real
pipeline (in-memory folders, a fresh ledger) and once through ``validate`` with
the client (a read-only prediction on another fresh ledger), in the same order:
each file's verdicts and issue codes, document by document, must be equal —
duplicates across files and the approval split included.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.clock import business_date
from gateway.config import load_settings
from gateway.file_validation import validate_files
from gateway.ledger import Ledger
from gateway.pipeline import InboundRoute, Pipeline
from gateway.transports.memory import MemoryInbound, MemoryOutbound

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "demo" / "batches"
CORPUS = REPO.parent / "shared" / "corpus"

Picture = tuple[list[tuple[str | None, str]], list[tuple[str | None, str]]]


def _files() -> list[Path]:
    files = sorted(SAMPLES.rglob("*.*"))
    files += sorted(SAMPLES.rglob("*.csv"))  # the same batches again: duplicates must agree too
    if CORPUS.is_dir():
        files += sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".pdf"))
    return files


def _run(files: list[Path], tmp_path: Path) -> list[Picture]:
    settings = load_settings(
        REPO / "samples" / "demo" / "gateway.toml", ledger_url=f"sqlite:///{tmp_path / 'run.sqlite'}"
    )
    acme = settings.client("acme")
    assert acme is not None
    inbox = MemoryInbound(acme.inbound[0].id)
    acks = MemoryOutbound(acme.acknowledgements.id)
    outbound = {
        settings.factor.remittances.id: MemoryOutbound(settings.factor.remittances.id),
        acks.channel: acks,
    }
    ledger = Ledger.open(settings.ledger_url)
    try:
        pipeline = Pipeline(settings, ledger, [InboundRoute(acme, acme.inbound[0], inbox)], outbound)
        names = [f"{index:04d}_{path.name}" for index, path in enumerate(files)]
        for index, (name, path) in enumerate(zip(names, files, strict=True)):
            inbox.drop(name, path.read_bytes(), mtime_ns=1_000_000_000 * (index + 1))
        pipeline.run_cycle()
    finally:
        ledger.close()
    by_source = {}
    for out_name, data in acks.files.items():
        if out_name.endswith(".json"):
            ack = json.loads(data)
            by_source[ack["source_name"]] = ack
    pictures = []
    for name in names:
        ack = by_source[name]
        issues = [(i.get("location"), i["code"]) for i in ack["file_issues"]]
        issues += [
            (i.get("location") or line["location"], i["code"])
            for line in ack["lines"]
            for i in line["issues"]
        ]
        verdicts = [(line["location"], line["verdict"]) for line in ack["lines"]]
        pictures.append((sorted(issues, key=str), verdicts))
    return pictures


def _validate(files: list[Path], tmp_path: Path) -> list[Picture]:
    settings = load_settings(
        REPO / "samples" / "demo" / "gateway.toml", ledger_url=f"sqlite:///{tmp_path / 'validate.sqlite'}"
    )
    acme = settings.client("acme")
    assert acme is not None
    bdate = business_date(settings.timezone, settings.as_of)
    Ledger.open(settings.ledger_url).close()  # an existing, empty ledger, read without writing
    results = validate_files(
        files, "auto", acme, bdate, settings.ledger_url, factor=settings.factor,
        schematron=acme.inbound[0].schematron,
    )  # fmt: skip
    return [
        (
            sorted(((i.location, i.code) for i in result.issues), key=str),
            [(d.location, d.verdict.value) for d in result.decisions],
        )
        for result in results
    ]


def test_validate_predicts_exactly_what_run_decides(tmp_path: Path) -> None:
    files = _files()
    assert len(files) >= 8
    ran, predicted = _run(files, tmp_path), _validate(files, tmp_path)
    disagreements = [
        (str(path.relative_to(path.parents[1])), run_picture, validate_picture)
        for path, run_picture, validate_picture in zip(files, ran, predicted, strict=True)
        if run_picture != validate_picture
    ]
    assert disagreements == []
    # The comparison has teeth: files were accepted, refused as duplicates, and refused for reasons.
    codes = {code for issues, _ in ran for _, code in issues}
    assert {"GW-DUPLICATE-FILE", "GW-SELLER-NOT-CLIENT"} <= codes
    assert any(verdict == "accepted" for _, verdicts in ran for _, verdict in verdicts)


@pytest.mark.parametrize("with_client", [False, True])
def test_validate_reports_what_run_reports_about_numbers_and_empty_files(
    tmp_path: Path, with_client: bool
) -> None:
    """The two codes ``validate`` used to miss: GW-NUMBER-INVALID and GW-FILE-NO-DOCUMENT."""
    header = (SAMPLES / "acme" / "acme_bordereau_20250310.csv").read_text(encoding="utf-8-sig").splitlines()
    no_number = tmp_path / "no-number.csv"
    no_number.write_text("\n".join([header[0], header[1].replace(header[1].split(";")[0], "---", 1)]) + "\n")
    header_only = tmp_path / "header-only.csv"
    header_only.write_text(header[0] + "\n")
    settings = load_settings(
        REPO / "samples" / "demo" / "gateway.toml", ledger_url=f"sqlite:///{tmp_path / 'none.sqlite'}"
    )
    client = settings.client("acme") if with_client else None
    results = validate_files([no_number, header_only], "auto", client, business_date(settings.timezone,
                             settings.as_of), settings.ledger_url if with_client else None)  # fmt: skip
    assert "GW-NUMBER-INVALID" in [i.code for i in results[0].issues]
    assert [i.code for i in results[1].issues] == ["GW-FILE-NO-DOCUMENT"]
    assert not (tmp_path / "none.sqlite").exists(), "validate created a ledger"
