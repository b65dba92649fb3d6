"""End-to-end benchmark: ``python bench/run.py`` prints a table.

Scenarios (the foundation issue's targets):

* ``a`` one CSV batch of 100,000 invoices
* ``b`` 1,000 CSV files of 10 invoices each
* ``c`` 1,000 UBL invoice files

Each scenario gets a fresh working directory (SQLite ledger, local folders)
and runs in its own Python process, so its peak RSS is its own. The timed
part is one full cycle: claim, parse, validate, assign, write, deliver
(fsynced), ledger commit (synchronous=FULL), archive (fsynced) — the same
code path as ``gateway run --once``. Generating the input files is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = date(2025, 3, 10)
CLIENT_SIREN = "732829320"
DEBTORS = [  # (id, siren) — valid SIRENs generated once with python-stdnum
    ("ALPHA", "552100554"),
    ("BETA", "380129866"),
    ("GAMMA", "512345679"),
    ("DELTA", "823456785"),
]
HEADER = (
    "invoice_number;type_code;issue_date;due_date;currency;seller_siren;seller_name;buyer_name;"
    "buyer_siren;total_without_vat;total_vat;total_with_vat\n"
)

CONFIG = """
[gateway]
ledger_url = "sqlite:///var/ledger.sqlite"
timezone = "Europe/Paris"
as_of = "{as_of}"

[factor]
name = "Bench Factor SA"
siren = "802954784"
collection_iban = "FR7630006000011234567890189"

[factor.remittances]
path = "out/factor"
formats = ["csv", "json"]

[schedules]
batch_size = 200

[clients.acme]
name = "ACME SARL"
siren = "{siren}"

[clients.acme.contract]
advance_rate = "0.90"
reserve_rate = "0.10"
fee_rate = "0.0035"
fee_vat_rate = "0.20"
financing_rate = "0.04"
day_count = "ACT/360"
max_term_days = 120
notified = true
currencies = ["EUR"]

[[clients.acme.inbound]]
id = "acme-inbox"
path = "clients/acme"
readiness = "rename"
stable_seconds = 0  # the files are complete before the timed cycle starts (no writer to wait for)

[clients.acme.acknowledgements]
path = "clients/acme/out"
formats = ["csv", "json"]
{debtors}
"""

DEBTOR = """
[[clients.acme.debtors]]
id = "{id}"
name = "{id} SA"
siren = "{siren}"
approval_limit = "500000000.00"
"""

UBL = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
 <cbc:ID>{number}</cbc:ID>
 <cbc:IssueDate>{issue}</cbc:IssueDate>
 <cbc:DueDate>{due}</cbc:DueDate>
 <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
 <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cac:AccountingSupplierParty><cac:Party>
  <cac:PostalAddress><cbc:CityName>Lyon</cbc:CityName><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
  <cac:PartyLegalEntity><cbc:RegistrationName>ACME SARL</cbc:RegistrationName><cbc:CompanyID schemeID="0002">{seller}</cbc:CompanyID></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party>
  <cac:PostalAddress><cbc:CityName>Paris</cbc:CityName><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
  <cac:PartyLegalEntity><cbc:RegistrationName>{buyer} SA</cbc:RegistrationName><cbc:CompanyID schemeID="0002">{buyer_siren}</cbc:CompanyID></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingCustomerParty>
 <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
  <cac:PayeeFinancialAccount><cbc:ID>FR7630006000011234567890189</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{vat}</cbc:TaxAmount>
  <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">{net}</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">{vat}</cbc:TaxAmount>
  <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
 <cac:LegalMonetaryTotal>
  <cbc:LineExtensionAmount currencyID="EUR">{net}</cbc:LineExtensionAmount>
  <cbc:TaxExclusiveAmount currencyID="EUR">{net}</cbc:TaxExclusiveAmount>
  <cbc:TaxInclusiveAmount currencyID="EUR">{gross}</cbc:TaxInclusiveAmount>
  <cbc:PayableAmount currencyID="EUR">{gross}</cbc:PayableAmount>
 </cac:LegalMonetaryTotal>
 <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">{net}</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Goods</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent>
  <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">{net}</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</Invoice>
"""


def _amounts(i: int) -> tuple[str, str, str]:
    net_cents = 10_000 + (i * 7919) % 5_000_000
    vat_cents = net_cents // 5
    return _fmt(net_cents), _fmt(vat_cents), _fmt(net_cents + vat_cents)


def _fmt(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _csv_rows(start: int, count: int) -> str:
    rows = []
    for i in range(start, start + count):
        debtor, siren = DEBTORS[i % len(DEBTORS)]
        issue = AS_OF - timedelta(days=i % 20)
        due = AS_OF + timedelta(days=30 + i % 60)
        net, vat, gross = _amounts(i)
        rows.append(
            f"F-{i:07d};380;{issue.isoformat()};{due.isoformat()};EUR;{CLIENT_SIREN};ACME SARL;"
            f"{debtor} SA;{siren};{net};{vat};{gross}\n"
        )
    return "".join(rows)


def _ubl(i: int) -> str:
    debtor, siren = DEBTORS[i % len(DEBTORS)]
    net, vat, gross = _amounts(i)
    return UBL.format(
        number=f"U-{i:07d}",
        issue=(AS_OF - timedelta(days=i % 20)).isoformat(),
        due=(AS_OF + timedelta(days=30 + i % 60)).isoformat(),
        seller=CLIENT_SIREN,
        buyer=debtor,
        buyer_siren=siren,
        net=net,
        vat=vat,
        gross=gross,
    )


def prepare(scenario: str, workdir: Path) -> int:
    """Write the configuration and the input files; return the number of invoices."""
    debtors = "".join(DEBTOR.format(id=d, siren=s) for d, s in DEBTORS)
    (workdir / "gateway.toml").write_text(CONFIG.format(as_of=AS_OF, siren=CLIENT_SIREN, debtors=debtors))
    inbox = workdir / "clients" / "acme" / "inbox"
    inbox.mkdir(parents=True)
    if scenario == "a":
        (inbox / "batch_100000.csv").write_text(HEADER + _csv_rows(0, 100_000))
        return 100_000
    if scenario == "b":
        for f in range(1_000):
            (inbox / f"batch_{f:04d}.csv").write_text(HEADER + _csv_rows(f * 10, 10))
        return 10_000
    if scenario == "c":
        for i in range(1_000):
            (inbox / f"invoice_{i:04d}.xml").write_text(_ubl(i))
        return 1_000
    raise ValueError(scenario)


def measure(workdir: Path) -> dict[str, object]:
    """Run one cycle in this process and report time, peak RSS and what it did."""
    import resource

    from gateway.config import load_settings
    from gateway.ledger import Ledger
    from gateway.runtime import open_pipeline, tune_memory_for_batches

    settings = load_settings(workdir / "gateway.toml")
    Ledger.open(settings.ledger_url).close()  # migrate before timing: a one-off cost per database
    tune_memory_for_batches()  # as the `gateway` command does at start
    started = time.perf_counter()
    with open_pipeline(settings) as pipeline:
        report = pipeline.run_cycle()
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "peak_rss_mib": peak_kib / 1024,
        "accepted": report.accepted_documents,
        "rejected": report.rejected_documents,
        "files": report.files,
        "failed": report.failed_files,
    }


def run_scenario(scenario: str) -> tuple[int, dict[str, object], Path]:
    """Prepare a fresh working directory and time one cycle in a child process."""
    workdir = Path(tempfile.mkdtemp(prefix=f"gw-bench-{scenario}-"))
    invoices = prepare(scenario, workdir)
    # Start from a quiet file system: the inputs were just written (and the disk here is mounted
    # with `discard`, so deletions cost at the next commit); a sync before the timed run keeps
    # that write-back out of the gateway's figures. The gateway's own fsyncs are all timed.
    os.sync()
    child = subprocess.run(
        [sys.executable, __file__, "--measure", str(workdir)], capture_output=True, text=True, check=False
    )
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        raise SystemExit(f"scenario {scenario} failed")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    if result["accepted"] != invoices or result["failed"]:
        raise SystemExit(f"scenario {scenario}: expected {invoices} accepted invoices, got {result}")
    return invoices, result, workdir


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", help="a, b and/or c (default: all three)")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per scenario; the median is reported.")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="Keep the working directories.")
    args = parser.parse_args()
    args.scenarios = args.scenarios or ["a", "b", "c"]
    if unknown := set(args.scenarios) - {"a", "b", "c"}:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    labels = {
        "a": "(a) 1 CSV x 100,000 invoices",
        "b": "(b) 1,000 CSV x 10 invoices",
        "c": "(c) 1,000 UBL files",
    }
    targets = {"a": 10_000, "b": 4_000, "c": None}
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"runs per scenario: {args.repeat} (median shown, then the slowest and fastest run)")
    print(
        f"{'scenario':31} {'invoices':>9} {'median s':>9} {'invoices/s':>11} {'range invoices/s':>18} "
        f"{'peak RSS MiB':>13} {'target':>9}"
    )
    workdirs: list[Path] = []
    for scenario in args.scenarios:
        rates: list[float] = []
        seconds: list[float] = []
        rss = 0.0
        invoices = 0
        for _ in range(max(1, args.repeat)):
            invoices, result, workdir = run_scenario(scenario)
            workdirs.append(workdir)
            seconds.append(float(result["seconds"]))  # type: ignore[arg-type]
            rates.append(invoices / seconds[-1])
            rss = max(rss, float(result["peak_rss_mib"]))  # type: ignore[arg-type]
        median_s = statistics.median(seconds)
        target = targets[scenario]
        print(
            f"{labels[scenario]:31} {invoices:>9,} {median_s:>9.2f} {invoices / median_s:>11,.0f} "
            f"{min(rates):>8,.0f} - {max(rates):>7,.0f} {rss:>13.0f} "
            f"{('>= ' + format(target, ',')) if target else '-':>9}"
        )
    if not args.keep:  # deleted at the end: deleting earlier would slow the next runs' syncs
        import shutil

        for workdir in workdirs:
            shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
