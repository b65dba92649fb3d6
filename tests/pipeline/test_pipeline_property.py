"""Property: whatever clients send, through whichever channels, in whatever order and batches, a
receivable (seller, normalised number, issue date) is assigned at most once, only through a channel
of its seller, and never lost: each one eligible and not yet assigned is assigned.

Each example generates invoices whose numbers are respelled (case, dashes, blanks, slashes, dots)
so that different spellings normalise equal, whose issue dates come from a set of two so that
collisions happen, and whose seller is written in several ways: ACME's identifiers spelled
differently, identifiers that disagree (ACME's SIREN beside BRAVO's VAT number...), another
client's identifiers. Files go to random channels of the three clients (acme has two), some are
sent again byte for byte, over one to three cycles with random batch sizes. A small model of the
rules predicts every document's verdict; the ledger's tables and the delivered remittances are
checked on their own as well.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gateway.config import load_settings
from gateway.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pipeline_support, as tests/ledger does

from pipeline_support import (
    ACME_SIREN,
    ACME_SIRET,
    ACME_VAT,
    BRAVO_SIREN,
    BRAVO_VAT,
    CHARLIE_SIREN,
    CHARLIE_VAT,
    Databases,
    Gateway,
    acknowledgement_lines,
    batch,
    row,
    write_config,
)

# --------------------------------------------------------------------------- what is sent


@dataclass(frozen=True)
class Seller:
    """How a row writes its seller, and the SIRENs those identifiers name."""

    siren: str
    vat: str
    names: frozenset[str]


def _seller(siren: str, vat: str, *names: str) -> Seller:
    return Seller(siren, vat, frozenset(names))


#: Identifiers that all name the company, spelled in different ways.
AGREEING = {
    ACME_SIREN: [
        _seller(ACME_SIREN, "", ACME_SIREN),
        _seller("732 829 320", "", ACME_SIREN),
        _seller(ACME_SIREN, ACME_VAT, ACME_SIREN),
        _seller("732.829.320", "fr 44 732 829 320", ACME_SIREN),
    ],
    BRAVO_SIREN: [
        _seller(BRAVO_SIREN, BRAVO_VAT, BRAVO_SIREN),
        _seller("443 061 841", "", BRAVO_SIREN),
    ],
    CHARLIE_SIREN: [
        _seller(CHARLIE_SIREN, "", CHARLIE_SIREN),
        _seller(CHARLIE_SIREN, "FR 82 542 065 479", CHARLIE_SIREN),
    ],
}
#: Identifiers that do not name one company (or no SIREN at all).
DISAGREEING = [
    _seller(ACME_SIREN, BRAVO_VAT, ACME_SIREN, BRAVO_SIREN),
    _seller(BRAVO_SIREN, ACME_VAT, BRAVO_SIREN, ACME_SIREN),
    _seller(ACME_SIREN, CHARLIE_VAT, ACME_SIREN, CHARLIE_SIREN),
    _seller(ACME_SIRET, "", "no SIREN"),  # a SIRET where the SIREN belongs
]
#: The seller of most receivables is ACME; BRAVO and CHARLIE have a few of their own.
COMPANIES = [ACME_SIREN, ACME_SIREN, ACME_SIREN, ACME_SIREN, BRAVO_SIREN, CHARLIE_SIREN]
ISSUE_DATES = ["2025-03-03", "2025-03-04"]
SEPARATORS = ["", "", "", "-", " ", "/", "_", ".", " - ", "//"]


@dataclass(frozen=True)
class Receivable:
    company: str  # the seller's SIREN
    canonical: str  # what every spelling of its number normalises to
    issue: str


@dataclass(frozen=True)
class Doc:
    """One row: a receivable as one sender writes it."""

    receivable: Receivable
    spelled: str  # its number as written
    seller: Seller  # its seller as written
    amount: str

    def row(self) -> str:
        return row(
            self.spelled, issue=self.receivable.issue, seller_siren=self.seller.siren,
            seller_vat=self.seller.vat, amount=self.amount,
        )  # fmt: skip


@dataclass(frozen=True)
class File:
    name: str
    channel: str
    cycle: int
    docs: tuple[Doc, ...]
    data: bytes


@dataclass(frozen=True)
class Scenario:
    files: tuple[File, ...]
    batch_size: int


#: Where files go: acme's two channels half the time, bravo's or charlie's the other half.
CHANNELS = ["acme-inbox", "acme-portal"] * 4 + ["bravo-inbox", "charlie-inbox"] * 2

receivables = st.builds(
    Receivable,
    st.sampled_from(COMPANIES),
    st.builds(str.__add__, st.sampled_from(["F", "INV"]), st.sampled_from(["1", "2", "12"])),
    st.sampled_from(ISSUE_DATES),
)


@st.composite
def spellings(draw: st.DrawFn, canonical: str) -> str:
    """``canonical`` with its letters in any case and separators anywhere between characters."""
    spelled = ""
    for position, char in enumerate(canonical):
        if position:
            spelled += draw(st.sampled_from(SEPARATORS))
        spelled += char.lower() if draw(st.booleans()) else char
    return spelled


@st.composite
def docs(draw: st.DrawFn, receivable: Receivable) -> Doc:
    """The receivable with its number respelled and its seller written one way or another."""
    if draw(st.integers(0, 4)) == 4:  # rarely (hypothesis leans to small integers)
        seller = draw(st.sampled_from(DISAGREEING))
    else:
        seller = draw(st.sampled_from(AGREEING[receivable.company]))
    return Doc(receivable, draw(spellings(receivable.canonical)), seller, f"{draw(st.integers(1, 9999))}.00")


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    pool = draw(st.lists(receivables, min_size=1, max_size=5))
    files: list[File] = []
    for index in range(draw(st.integers(1, 7))):
        channel = draw(st.sampled_from(CHANNELS))
        cycle = draw(st.integers(0, 2))
        name = f"batch{index:02d}.csv"
        how = draw(st.sampled_from(["new", "again", "again", "copy"])) if files else "new"
        if how == "copy":  # the same bytes again, on any channel
            source = draw(st.sampled_from(files))
            files.append(File(name, channel, cycle, source.docs, source.data))
            continue
        if how == "again":  # the receivables of an earlier file again, written afresh
            chosen = [doc.receivable for doc in draw(st.sampled_from(files)).docs]
        else:
            chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))
        content = tuple(draw(docs(receivable)) for receivable in chosen)
        files.append(File(name, channel, cycle, content, batch(*(d.row() for d in content))))
    return Scenario(tuple(files), draw(st.sampled_from([1, 2, 200])))


# --------------------------------------------------------------------------- what should happen

Key = tuple[str, str, str]  # (seller SIREN, canonical number, issue date)
DUPLICATE_FILE = "duplicate file"


def _processing_order(gateway: Gateway, files: Sequence[File]) -> list[File]:
    """Cycle by cycle; in a cycle, channel by channel in configuration order; in a channel, in the
    order the files were dropped."""
    route_order = {route.channel.id: i for i, route in enumerate(gateway.routes)}
    return sorted(files, key=lambda f: (f.cycle, route_order[f.channel], files.index(f)))


def expected_verdicts(gateway: Gateway, files: Sequence[File]) -> dict[str, list[str] | str]:
    """The rules in a few lines: a document is assigned when every identifier of its seller names
    the client of the channel, and its key is neither assigned already nor earlier in its file;
    a file whose bytes that client already sent is refused whole."""
    assigned: set[Key] = set()
    contents: set[tuple[str, str]] = set()
    verdicts: dict[str, list[str] | str] = {}
    for file in _processing_order(gateway, files):
        client = gateway.owner[file.channel]
        content = (client.id, hashlib.sha256(file.data).hexdigest())
        if content in contents:
            verdicts[file.name] = DUPLICATE_FILE
            event("refused: the same bytes again")
            continue
        contents.add(content)
        in_file: set[Key] = set()
        lines: list[str] = []
        for doc in file.docs:
            key = (client.siren, doc.receivable.canonical, doc.receivable.issue)
            if doc.seller.names != {client.siren}:
                why = "seller identifiers disagree" if len(doc.seller.names) > 1 else "not the client"
            elif key in assigned:
                why = "already assigned"
            elif key in in_file:
                why = "twice in one file"
            else:
                why = ""
                in_file.add(key)
            event(f"refused: {why}" if why else f"assigned through {file.channel}")
            lines.append("rejected" if why else "accepted")
        assigned |= in_file
        verdicts[file.name] = lines
    return verdicts


def _canonical(number: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", number.upper())


# --------------------------------------------------------------------------- the property


def run_scenario(base: Settings, url: str, scenario: Scenario) -> None:
    configured = dataclasses.replace(
        base, schedules=dataclasses.replace(base.schedules, batch_size=scenario.batch_size)
    )
    gateway = Gateway(configured, url)
    try:
        ticks = itertools.count(1)
        for cycle in range(max(f.cycle for f in scenario.files) + 1):
            for file in scenario.files:
                if file.cycle == cycle:
                    gateway.drop(file.channel, file.name, file.data, mtime_ns=1_000_000 + next(ticks))
            report = gateway.cycle()
            assert report.failed_files == 0 and not report.busy_channels

        # 1. Every document's verdict, as the model says (never twice, and never lost).
        acks: dict[str, dict[str, Any]] = {}
        for client in configured.clients:
            acks.update(gateway.acknowledgements(client.id))
        assert sorted(acks) == sorted(f.name for f in scenario.files)
        got: dict[str, list[str] | str] = {}
        for name, ack in acks.items():
            if [i["code"] for i in ack["file_issues"]] == ["GW-DUPLICATE-FILE"]:
                assert ack["lines"] == []
                got[name] = DUPLICATE_FILE
            else:
                got[name] = [verdict for _, verdict, _ in acknowledgement_lines(ack)]
        assert got == expected_verdicts(gateway, scenario.files)

        # 2. In the ledger: no receivable in two remittances, and each one assigned through a
        # channel of its seller.
        accepted = gateway.accepted_documents()
        keys = Counter((seller, number, str(issued)) for seller, number, issued, *_ in accepted)
        assert [key for key, times in keys.items() if times > 1] == []
        for seller, _, _, remittance, doc_client, envelope_client, channel in accepted:
            owner = gateway.owner[channel]
            assert remittance is not None
            assert (seller, doc_client, envelope_client) == (owner.siren, owner.id, owner.id)
        assert Counter((s, n, str(d)) for _, s, n, d in gateway.assignment_keys()) == keys

        # 3. In what the factor received: the same, line by line.
        sirens = {client.id: client.siren for client in configured.clients}
        lines = Counter(
            (sirens[remittance["client_id"]], _canonical(line["number"]), line["issue_date"])
            for remittance in gateway.remittances()
            for line in remittance["lines"]
        )
        assert lines == keys
    finally:
        gateway.close()


def test_a_receivable_is_assigned_once_through_its_seller_and_never_lost(
    databases: Databases, tmp_path: Path
) -> None:
    base = load_settings(write_config(tmp_path / "etc"), ledger_url=databases.url)

    @settings(
        max_examples=40 if databases.backend == "sqlite" else 25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenario=scenarios())
    def property_holds(scenario: Scenario) -> None:
        run_scenario(base, databases.fresh(), scenario)

    property_holds()
