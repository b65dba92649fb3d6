"""Flows: what the gateway does with the files of one kind of channel.

A channel declares what it carries (``kind`` in its configuration); each kind is a
flow with the same four steps — examine (pure: bytes → model → issues), decide
(one unit of work in the ledger), render (a list of outputs) — while the pipeline
claims, delivers and archives without knowing what an invoice is. Later kinds
(bank statements, collection reports, approvals files) are added here.
"""

from __future__ import annotations

from gateway.flows.base import EnvelopeSummary, Flow, Rendered
from gateway.flows.invoices import InvoiceFlow
from gateway.settings import CHANNEL_KINDS

#: kind -> flow class; every kind the configuration accepts has one.
FLOWS: dict[str, type[InvoiceFlow]] = {"invoices": InvoiceFlow}
assert set(FLOWS) == set(CHANNEL_KINDS), "every channel kind needs its flow"

__all__ = ["FLOWS", "EnvelopeSummary", "Flow", "Rendered"]
