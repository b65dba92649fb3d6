"""Examine one received file and decide what becomes of each document in it.

Two halves, kept apart on purpose:

* :func:`examine` is pure and may be slow (parsing 100,000 rows): bytes and
  the client's settings in, documents with their issues out. It runs outside
  any ledger transaction.
* :func:`decide` runs inside the ledger's assignment unit of work and is
  short: it adds what only the ledger knows (duplicate files, invoices
  already assigned, the debtors' consumed approvals, the next remittance
  number) and records the outcome in one go.

The order of checks is the order a factor's back office would apply them:
the file must be readable, then each document must be valid and eligible,
then it must not be a duplicate, and only then does it consume approval.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from gateway.factoring.approvals import ApprovalState, split_by_approval
from gateway.factoring.eligibility import Eligibility, seller_legal_key
from gateway.factoring.financeable import check_financeable
from gateway.ledger import (
    CURRENCY_WIDTH,
    SELLER_KEY_WIDTH,
    TYPE_CODE_WIDTH,
    BusinessKey,
    ClientFacts,
    DebtorFacts,
    DecisionWork,
    DocumentRecord,
    EnvelopeState,
    is_storable_amount,
)
from gateway.limits import Limits
from gateway.model import (
    AssignedLine,
    Invoice,
    Issue,
    RejectedRecord,
    Verdict,
    normalise_invoice_number,
)
from gateway.parsers import parse_file
from gateway.parsers.base import NO_OPTIONS, ParserOptions
from gateway.settings import ClientSettings, DebtorSettings, FactorSettings
from gateway.text import escape_controls, has_controls
from gateway.validation.conformance import (
    NOT_AN_EINVOICE,
    ZUGFERD1,
    ZUGFERD1_WARNING,
    Conformance,
    assess,
    with_xsd_source,
)
from gateway.validation.document import check_document

_LINE = re.compile(r"line (\d+)")


@dataclass(slots=True)
class Candidate:
    """A parsed document on its way to a verdict."""

    invoice: Invoice
    debtor: DebtorSettings | None
    issues: list[Issue]
    key: BusinessKey | None

    @property
    def fatal(self) -> bool:
        return any(i.is_fatal for i in self.issues)


@dataclass(slots=True)
class Examined:
    """One envelope after reading, parsing and the checks that need no ledger."""

    envelope_id: int
    source_name: str
    content_sha256: str | None
    format: str | None
    file_issues: tuple[Issue, ...]
    candidates: list[Candidate] = field(default_factory=list)
    unreadable: tuple[RejectedRecord, ...] = ()
    #: Is it a conformant e-invoice, by which rule sets (:mod:`gateway.validation.conformance`).
    conformance: Conformance = NOT_AN_EINVOICE

    @property
    def file_rejection(self) -> Issue | None:
        return next((i for i in self.file_issues if i.is_fatal), None)


def examine(
    envelope_id: int,
    source_name: str,
    data: bytes | None,
    client: ClientSettings | None,
    business_date: date,
    limits: Limits,
    format_id: str = "auto",
    read_error: Issue | None = None,
    options: ParserOptions = NO_OPTIONS,
    *,
    factor: FactorSettings | None = None,
    schematron: bool = True,
) -> Examined:
    """Parse and check one file: the same path for ``run``, ``ingest`` and ``validate``.

    ``read_error`` is set when the bytes could not be read (too large). Without a
    ``client`` (``validate`` without ``--client``) the contract's rules are left out,
    nothing else. ``factor`` is needed by the notified contracts' assignment rule;
    ``schematron`` is the channel's choice to run the official Schematron rules.

    A document is assigned only if it is both conformant and financeable: its issues are the
    official rules' first (the e-invoice's verdict, see :mod:`gateway.validation.conformance`),
    then the gateway's and the contract's; any fatal one refuses it.
    """
    if data is None:
        issue = read_error or Issue("GW-FILE-UNREADABLE", "The file could not be read.")
        return Examined(envelope_id, source_name, None, None, (issue,))
    sha = hashlib.sha256(data).hexdigest()
    result = parse_file(data, source_name, limits, format_id, options)
    br_fr = client is not None and client.contract.br_fr
    conformance = assess(result, limits, br_fr=br_fr, schematron_on=schematron)
    file_issues = with_xsd_source(result.issues)
    if any(i.code == ZUGFERD1 for i in conformance.issues):  # its fatal verdict supersedes the warning
        file_issues = tuple(i for i in file_issues if i.code != ZUGFERD1_WARNING)
    if conformance.issues and len(result.documents) != 1:  # nothing to hang them on: about the file
        file_issues += conformance.issues
    examined = Examined(
        envelope_id, source_name, sha, result.format, file_issues, unreadable=result.rejected,
        conformance=conformance,
    )  # fmt: skip
    if result.file_rejected:
        return examined
    official = conformance.issues if len(result.documents) == 1 else ()
    rules = Eligibility(client) if client is not None else None  # one per file: lookups built once
    for invoice in result.documents:
        debtor, matched_by = rules.debtor_match(invoice) if rules is not None else (None, None)
        gateway_issues = check_document(invoice, buyer_matched_by=matched_by)
        if conformance.schematron_checked:  # the gateway's stand-ins for official rules would repeat them
            gateway_issues = [i for i in gateway_issues if not i.code.startswith("BR-")]
        issues = [*official, *gateway_issues]
        if rules is not None:
            issues += rules.check(invoice, business_date)
        issues += check_financeable(invoice, conformance.facts, client, factor)
        key = _business_key(invoice, client, rules)
        if key is None:
            issues.append(
                Issue(
                    "GW-NUMBER-INVALID",
                    f"The number {invoice.number!r} has no letter or digit, so the factor could not tell "
                    "this document from another one; give it its real number.",
                    location=invoice.location,
                )
            )
        examined.candidates.append(Candidate(invoice, debtor, issues, key))
    if not result.documents and not result.rejected:
        examined.file_issues += (
            Issue("GW-FILE-NO-DOCUMENT", "The file contains no invoice or credit note."),
        )
    return examined


def _business_key(
    invoice: Invoice, client: ClientSettings | None, rules: Eligibility | None
) -> BusinessKey | None:
    """(seller legal id, normalised number, issue date): the same receivable whoever sends it.

    Eligibility only lets through a seller whose identifiers all name the client, so for
    every document that can be assigned the seller's legal id is the client's SIREN; the
    key is still taken from the document itself, as the ledger compares it across clients.
    """
    normalised = normalise_invoice_number(invoice.number)
    if not normalised:
        return None
    legal = rules.seller_legal_key(invoice.seller) if rules is not None else seller_legal_key(invoice.seller)
    seller = legal or (client.siren if client else None) or "unknown seller"
    return BusinessKey(seller, normalised, invoice.issue_date)


class Decider:
    """Takes examined envelopes through one assignment unit of work.

    Keeps the debtors' approval states in memory for the whole unit, so a
    batch of envelopes consumes approvals in order exactly as if they had been
    committed one by one.
    """

    def __init__(self, work: DecisionWork) -> None:
        self._work = work
        self._approvals: dict[str, dict[str, ApprovalState]] = {}
        self._synced: set[str] = set()

    def decide(self, examined: Examined, client: ClientSettings, business_date: date) -> EnvelopeState:
        """Record the outcome of one envelope; returns its new state."""
        self._sync(client)
        file_issues = list(examined.file_issues)
        if examined.file_rejection is None and examined.content_sha256 is not None:
            duplicate = self._duplicate_content(examined, client)
            if duplicate is not None:
                file_issues.append(duplicate)
        rejection = next((i for i in file_issues if i.is_fatal), None)
        if rejection is not None:
            self._record(examined, business_date, file_issues, [], None, rejection)
            return EnvelopeState.REJECTED

        # Work on copies: a unit of work that rolls back (a race with another node) is decided
        # again from the same examined files, and must not see this attempt's verdicts.
        candidates = [replace(c, issues=list(c.issues)) for c in examined.candidates]
        self._mark_duplicates(candidates, client)
        accepted = [c for c in candidates if not c.fatal]
        lines, moves = self._split(accepted, client)
        number = (
            self._work.next_remittance_number(client.id, client.first_remittance_number) if lines else None
        )
        outcome = None
        if not lines:
            outcome = Issue(
                "GW-NOTHING-ASSIGNED",
                "No document of this file could be assigned; the reasons are listed per document.",
            )
        records = _document_records(candidates, examined.unreadable, lines, client)
        self._record(examined, business_date, file_issues, records, number, outcome, moves)
        return EnvelopeState.ASSIGNED if lines else EnvelopeState.REJECTED

    def _sync(self, client: ClientSettings) -> None:
        if client.id in self._synced:
            return
        self._work.sync_parties(
            ClientFacts(client.id, client.name, client.siren, client.vat_id),
            [
                DebtorFacts(
                    d.id,
                    d.name,
                    d.siren,
                    d.vat_id,
                    d.approval_limit,
                    d.approval_currency,
                    d.opening_outstanding,
                )
                for d in client.debtors
            ],
        )
        self._synced.add(client.id)

    def _duplicate_content(self, examined: Examined, client: ClientSettings) -> Issue | None:
        sha = examined.content_sha256
        assert sha is not None
        first = self._work.claim_content(client.id, sha, examined.envelope_id)
        if first is None or first == examined.envelope_id:
            return None
        return Issue(
            "GW-DUPLICATE-FILE",
            f"This file has exactly the same content as a file already received (envelope {first}); "
            "nothing in it was assigned again.",
        )

    def _mark_duplicates(self, candidates: Sequence[Candidate], client: ClientSettings) -> None:
        keyed = [c for c in candidates if not c.fatal and c.key is not None]
        already = self._work.assigned_keys({c.key for c in keyed if c.key is not None})
        seen: set[BusinessKey] = set()
        for cand in keyed:
            assert cand.key is not None
            inv = cand.invoice
            if cand.key in already:
                cand.issues.append(
                    Issue(
                        "GW-DUPLICATE-INVOICE",
                        f"{_kind_word(inv)} {inv.number} of {inv.issue_date.isoformat()} was already "
                        "assigned to the factor; it is not assigned twice.",
                        location=inv.location,
                    )
                )
            elif cand.key in seen:
                cand.issues.append(
                    Issue(
                        "GW-DUPLICATE-IN-FILE",
                        f"{_kind_word(inv)} {inv.number} of {inv.issue_date.isoformat()} appears more than "
                        "once in this file; only its first occurrence is assigned.",
                        location=inv.location,
                    )
                )
            else:
                seen.add(cand.key)

    def _split(
        self, accepted: Sequence[Candidate], client: ClientSettings
    ) -> tuple[tuple[AssignedLine, ...], list[tuple[str, Decimal, Decimal]]]:
        """The remittance lines, and the approval movements they make:
        ``(debtor_id, amount, balance_after)`` per debtor whose outstanding moved."""
        if not accepted:
            return (), []
        states = self._approvals.setdefault(client.id, {})
        missing = {c.debtor.id for c in accepted if c.debtor is not None} - states.keys()
        if missing:
            for debtor_id, (limit, currency, outstanding) in self._work.approvals(client.id, missing).items():
                states[debtor_id] = ApprovalState(debtor_id, limit, currency, outstanding)
        items = [(c.invoice, c.debtor) for c in accepted if c.debtor is not None]
        lines, new_states = split_by_approval(items, states)
        moves = [
            (debtor_id, state.outstanding - states[debtor_id].outstanding, state.outstanding)
            for debtor_id, state in sorted(new_states.items())
            if state.outstanding != states[debtor_id].outstanding
        ]
        # The states carry the outstanding on to the next envelope of this unit of work.
        states.update(new_states)
        return lines, moves

    def _record(
        self,
        examined: Examined,
        business_date: date,
        file_issues: Sequence[Issue],
        documents: Sequence[DocumentRecord],
        number: int | None,
        outcome: Issue | None,
        moves: Sequence[tuple[str, Decimal, Decimal]] = (),
    ) -> None:
        state = EnvelopeState.ASSIGNED if number is not None else EnvelopeState.REJECTED
        self._work.record_outcome(
            examined.envelope_id,
            state=state,
            format=examined.format,
            content_sha256=examined.content_sha256,
            business_date=business_date,
            file_issues=_stored_issues(file_issues),
            documents=documents,
            remittance_number=number,
            outcome_code=outcome.code if outcome else None,
            outcome_message=outcome.message if outcome else None,
            approval_moves=moves,
        )


def _stored(text: str | None) -> str | None:
    """A value from a client's file as the ledger keeps it: control characters written as
    escapes (a document holding one is refused, but its acknowledgement still names it, and
    PostgreSQL refuses a NUL in text while a terminal obeys an ESC sequence)."""
    return None if text is None else escape_controls(text)


def _coded(value: str | None, width: int) -> str | None:
    """A coded value (currency, type code, seller id) as the ledger keeps it: a document whose
    value is too long or holds a control character is refused for it (its issue shows the value
    escaped), so the value itself is left out rather than failing the whole file's record."""
    if value is None or len(value) > width or has_controls(value):
        return None
    return value


def _stored_issues(issues: Sequence[Issue]) -> tuple[Issue, ...]:
    return tuple(
        replace(i, message=escape_controls(i.message), location=_stored(i.location))
        if has_controls(i.message) or (i.location is not None and has_controls(i.location))
        else i
        for i in issues
    )


def _kind_word(invoice: Invoice) -> str:
    return "Credit note" if invoice.is_credit_note else "Invoice"


def _position_key(location: str | None, index: int) -> tuple[int, int]:
    match = _LINE.fullmatch(location or "")
    return (int(match.group(1)) if match else 0, index)


def _document_records(
    candidates: Sequence[Candidate],
    unreadable: Sequence[RejectedRecord],
    lines: Sequence[AssignedLine],
    client: ClientSettings,
) -> list[DocumentRecord]:
    """Every document and unreadable record of the file, in file order, with its verdict."""
    by_key = {(line.number, line.issue_date, line.type_code): line for line in lines}
    items: list[tuple[tuple[int, int], Candidate | RejectedRecord]] = [
        (_position_key(c.invoice.location, i), c) for i, c in enumerate(candidates)
    ]
    offset = len(items)
    items += [(_position_key(r.location, offset + i), r) for i, r in enumerate(unreadable)]
    items.sort(key=lambda pair: pair[0])
    records: list[DocumentRecord] = []
    for position, (_, item) in enumerate(items, start=1):
        if isinstance(item, RejectedRecord):
            records.append(_unreadable_record(position, item))
            continue
        inv = item.invoice
        line = None if item.fatal else by_key.get((inv.number, inv.issue_date, inv.type_code))
        issues = tuple(item.issues)
        if line is None and not item.fatal:
            # Passed every check but left out of the split: no debtor could be resolved.
            issues += (Issue("GW-DEBTOR-UNKNOWN", "The debtor of this document is not known to the factor."),)
        if line is not None:  # accepted: every value was checked, and is kept as it is
            records.append(_accepted_record(position, item, line))
            continue
        records.append(
            DocumentRecord(
                position=position,
                location=_stored(inv.location) or f"document {position}",
                number=_stored(inv.number),
                normalised_number=item.key.normalised_number if item.key else None,
                seller_key=_coded(item.key.seller_key if item.key else None, SELLER_KEY_WIDTH),
                issue_date=inv.issue_date,
                due_date=inv.due_date,
                type_code=_coded(inv.type_code, TYPE_CODE_WIDTH),
                currency=_coded(inv.currency, CURRENCY_WIDTH),
                amount=inv.signed_amount if is_storable_amount(inv.signed_amount) else None,
                debtor_id=item.debtor.id if item.debtor else None,
                debtor_name=item.debtor.name if item.debtor else _stored(inv.buyer.name),
                preceding_invoice=_stored(inv.preceding_invoices[0]) if inv.preceding_invoices else None,
                verdict=Verdict.REJECTED,
                issues=_stored_issues(issues),
            )
        )
    return records


def _accepted_record(position: int, item: Candidate, line: AssignedLine) -> DocumentRecord:
    inv = item.invoice
    assert item.key is not None and item.debtor is not None  # an assigned line has both
    return DocumentRecord(
        position=position,
        location=inv.location or f"document {position}",
        number=inv.number,
        normalised_number=item.key.normalised_number,
        seller_key=item.key.seller_key,
        issue_date=inv.issue_date,
        due_date=inv.due_date,
        type_code=inv.type_code,
        currency=inv.currency,
        amount=line.amount,
        debtor_id=item.debtor.id,
        debtor_name=item.debtor.name,
        preceding_invoice=line.preceding_invoice,
        verdict=Verdict.ACCEPTED,
        issues=_stored_issues(item.issues) if item.issues else (),
        line_no=line.line_no,
        guaranteed=line.guaranteed,
        non_guaranteed=line.non_guaranteed,
    )


def _unreadable_record(position: int, record: RejectedRecord) -> DocumentRecord:
    return DocumentRecord(
        position=position,
        location=_stored(record.location) or f"document {position}",
        number=_stored(record.number),
        normalised_number=None,
        seller_key=None,
        issue_date=None,
        due_date=None,
        type_code=None,
        currency=None,
        amount=None,
        debtor_id=None,
        debtor_name=None,
        preceding_invoice=None,
        verdict=Verdict.REJECTED,
        issues=_stored_issues(record.issues),
    )
