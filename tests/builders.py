"""The settings and documents many unit tests start from, each bent in one place by the test.

Importable by name from every test folder (the top conftest puts this folder on ``sys.path``).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

from gateway.model import DocumentTotals, Invoice, Party, PartyId
from gateway.settings import (
    ClientSettings,
    ContractTerms,
    DebtorSettings,
    LocalFolderSettings,
    OutboundChannel,
)

D = Decimal
SELLER = Party(name="ACME SARL", legal_id=PartyId("732829320", "0002"), vat_id="FR44732829320")
BUYER = Party(name="ALPHA SA", legal_id=PartyId("552100554", "0002"))
ALPHA = DebtorSettings("ALPHA", "ALPHA SA", "552100554", None, D("40000.00"), "EUR", D("0.00"))


def contract_terms(**changes: object) -> ContractTerms:
    """A plain EUR contract: 90 % advance, 90 days' maximum term, notified."""
    terms = ContractTerms(
        advance_rate=D("0.90"),
        reserve_rate=D("0.10"),
        fee_rate=D("0.0035"),
        fee_vat_rate=D("0.20"),
        financing_rate=D("0.04"),
        day_count="ACT/360",
        max_term_days=90,
        notified=True,
        currencies=("EUR",),
    )
    return dataclasses.replace(terms, **changes)  # type: ignore[arg-type]


def acme_client(debtors: tuple[DebtorSettings, ...] = (ALPHA,), **contract_changes: object) -> ClientSettings:
    """ACME SARL (SIREN 732829320) with ``debtors``, no inbound channel."""
    return ClientSettings(
        id="acme",
        name="ACME SARL",
        siren="732829320",
        sirets=(),
        vat_id="FR44732829320",
        contract=contract_terms(**contract_changes),
        debtors=debtors,
        inbound=(),
        acknowledgements=OutboundChannel("ack", LocalFolderSettings(Path("/tmp/ack"))),
    )


def sample_invoice(**changes: object) -> Invoice:
    """ACME's invoice F-1001 to ALPHA: 1,000.00 + 200.00 VAT, due 2025-05-04, line 7 of its file."""
    base = Invoice(
        number="F-1001",
        issue_date=date(2025, 3, 1),
        type_code="380",
        currency="EUR",
        seller=SELLER,
        buyer=BUYER,
        totals=DocumentTotals(
            tax_exclusive=D("1000.00"), tax=D("200.00"), tax_inclusive=D("1200.00"), amount_due=D("1200.00")
        ),
        due_date=date(2025, 5, 4),
        location="line 7",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
