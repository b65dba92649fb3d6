"""Local folder channels: a client's drop folder in, a partner's folder out.

Inbound layout under ``root``::

    inbox/               the client drops files here (top level only)
    work/                claimed: renamed here before anything reads them
    archive/YYYY/MM/DD/  processed, filed under the business date
    error/               refused or failed, each with NAME.reason.json beside it

Nothing is ever deleted or overwritten: every move is a ``rename`` inside one
file system (atomic: after a crash the file is in one place or the other), and
a name already taken gets a ``.1``, ``.2`` ... suffix. A claim is not fsynced:
if power fails, the rename may be undone and the file shows in ``inbox/`` again,
where the ledger's transport key (name, size, mtime, unchanged by a rename)
recognises it. Archive and error moves are made durable once per
:meth:`LocalFolderInbound.finalize` call (one fsync per directory, not per file).

The periodic scan is the truth. watchdog only shortens :meth:`~LocalFolderInbound.wait`;
events are lost on network shares and when the queue overflows, and nothing
depends on them.

One process per inbound channel: :meth:`LocalFolderInbound.acquire` takes an
exclusive lock on ``root/.gateway-channel.lock`` (see :mod:`..channel_lock`), and
:meth:`~LocalFolderInbound.recover` refuses to run without it, because without it
the files in ``work/`` may be another process's work in progress.

Nothing stays without a word: what the scan leaves in the inbox is listed by
:meth:`~LocalFolderInbound.ignored` and logged once; temporaries of an interrupted
finalize or delivery are removed by ``recover()``; an ``OSError`` becomes a
``TransportError`` or ``DeliveryError`` naming the step, the path and the reason
(:mod:`..os_errors`), and the file being processed stays where it was.

One module per job, so that each stays short enough to read in one sitting:

* :mod:`.inbound` -- :class:`LocalFolderInbound`: the channel lock, claim, recover, read;
* :mod:`.inbox_scan` -- which inbox files are ready, which are left there and why;
* :mod:`.watcher` -- watchdog wake-ups and inotify's closed-after-write notes;
* :mod:`.outcomes` -- the moves to ``archive/`` and ``error/`` (finalize, quarantine);
* :mod:`.outbound` -- :class:`LocalFolderOutbound`: atomic deliveries and their leftovers;
* :mod:`.files` -- fsync, durable writes, batched ``syncfs``, free names, leftover removal.

Their loggers are children of ``gateway.transports.local``, so a logging set-up made
for that name still applies to all of them.
"""

from gateway.transports.local.inbound import LocalFolderInbound
from gateway.transports.local.outbound import LocalFolderOutbound

__all__ = ["LocalFolderInbound", "LocalFolderOutbound"]
