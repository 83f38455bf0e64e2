"""The ``journeybridge`` command: a thin composition root over the library.

Each command parses its options, calls one library function and prints through
:mod:`.output`; typed errors become one line on stderr and the exit code
:func:`~.core.exit_code_for` gives them (one map for every command, see :mod:`.core`).

Modules: :mod:`.core` (exit codes, the command class, the session that builds configuration
and state store once), :mod:`.output` (everything printed), :mod:`.shops` (init, check, sync,
journeys, status), :mod:`.people` (explain, backtest), :mod:`.events` (export-events),
:mod:`.sandbox` (demo, sandbox, schema), :mod:`.actions` (actions), :mod:`.report`
(report).
"""

from __future__ import annotations

import click

from journeybridge import __version__
from journeybridge.cli import actions, events, people, report, sandbox, shops
from journeybridge.cli.core import (
    EXIT_CONFIG,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNREACHABLE,
    Group,
    exit_code_for,
    worst,
)

__all__ = ["EXIT_CONFIG", "EXIT_LOCKED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_UNREACHABLE",
           "exit_code_for", "main", "worst"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="journeybridge")
def main() -> None:
    """Where every customer of your WooCommerce or PrestaShop shop stands in their journey,
    why, and since when."""


for _command in (*sandbox.COMMANDS, *shops.COMMANDS, *people.COMMANDS, *events.COMMANDS,
                 *actions.COMMANDS, *report.COMMANDS):
    main.add_command(_command)
