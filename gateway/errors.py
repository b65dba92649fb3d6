"""One error tree for the whole gateway.

::

    GatewayError
     ├── ConfigError          the configuration is wrong; ``problems`` lists every key path
     ├── InputError           a file from outside is unusable; carries a stable ``code``
     │    ├── UnsafeInput      DOCTYPE / entities / anything that could reach files or the network
     │    ├── AmountError      an amount that is no plain decimal number (gateway.money)
     │    ├── LimitExceeded    a size or count cap from :mod:`gateway.limits` was hit
     │    └── UnknownFormat    no parser, or more than one, claims the file
     ├── LedgerError          the ledger refused or could not be reached (our side: retry)
     │    ├── LedgerReplaced   the ledger was removed or swapped under a running process: stop
     │    └── LedgerBusy       another process holds this SQLite ledger
     ├── TransportError       an inbox, outbox or remote server misbehaved (our side: retry)
     │    └── ClaimLost        another worker took the file first
     └── DeliveryError        an output could not be written, or would overwrite a different file

``InputError`` means the *client's* file is at fault: the envelope is rejected
and the client is told why. Every other error is ours or the environment's:
the envelope is marked failed and retried, never lost.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration is invalid. ``problems`` holds ``key.path: message`` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems) if self.problems else "invalid configuration")


class InputError(GatewayError):
    """A client's file cannot be used. ``code`` is stable; ``str(err)`` is for people."""

    code = "GW-INPUT"

    def __init__(self, message: str, *, code: str | None = None, location: str | None = None) -> None:
        if code is not None:
            self.code = code
        self.location = location
        super().__init__(message)


class UnsafeInput(InputError):
    code = "GW-XML-UNSAFE"


class LimitExceeded(InputError):
    code = "GW-LIMIT-EXCEEDED"


class UnknownFormat(InputError):
    code = "GW-FORMAT-UNKNOWN"


class LedgerError(GatewayError):
    """The ledger could not do what was asked (connection, migration, constraint we did not expect)."""


class TransportError(GatewayError):
    """An inbox, outbox or remote server failed; the file stays where it was."""


class ClaimLost(TransportError):
    """Another worker claimed the entry first; skip it, do not report it."""


class DeliveryError(GatewayError):
    """An output could not be delivered, or a different file already has its name."""


class LedgerReplaced(LedgerError):
    """The ledger this process opened is gone or was swapped for another one.

    Going on would number remittances again from 1 and assign known receivables
    a second time, so the process stops instead."""


class LedgerBusy(LedgerError):
    """Another gateway process already works on this SQLite ledger (one writer per file)."""
