"""The ``gateway`` command: parse arguments, call the layers below, render the result.

Exit codes (the same for every command):

===  ======================================================================
 0   everything went through (``validate``: every file valid)
 1   the input was refused in part or whole: invalid files, rejected invoices
 2   usage error, invalid configuration, a file that cannot be read
 3   the gateway or its environment failed (ledger unreachable, a file failed)
===  ======================================================================

One module per group of commands; this one only assembles them. The options every command
takes (``--config``, ``--as-of``, ``--ledger-url``, ``-v``, ``-q``, ``--log-json``) are
accepted before the command name and after it (:func:`gateway.cli.common.common_options`).
"""

from __future__ import annotations

import click

from gateway import __version__
from gateway.cli import admin, files, inspection, maintenance, processing
from gateway.cli.common import Context, common_options

__all__ = ["main"]


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 everything went through; 1 input refused (an invalid file, a rejected invoice); "
    "2 usage or configuration error, unreadable file; 3 the gateway or its environment failed "
    "(the files stay in work/ and are retried). What an issue code means: gateway explain CODE.",
)
@common_options
@click.version_option(__version__, prog_name="gateway")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Factoring gateway: client invoice batches in, assignment remittances for the factor and
    acknowledgements for the client out, recorded in a ledger that never assigns a receivable twice."""
    obj = ctx.ensure_object(Context)
    obj.apply_logging()
    from gateway.runtime import tune_memory_for_batches

    tune_memory_for_batches()


for _command in (
    processing.demo,
    processing.run,
    processing.ingest,
    processing.validate,
    inspection.status,
    files.show,
    files.replay,
    inspection.explain,
    maintenance.doctor,
    admin.config,
    admin.ledger,
):
    main.add_command(_command)
