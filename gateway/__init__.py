"""Factoring gateway: invoice batches in, assignment remittances and acknowledgements out."""

__version__ = "0.1.0"
