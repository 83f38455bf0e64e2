"""The cron-facing commands over configured shops: ``init``, ``check``, ``sync``,
``journeys`` and ``status``. Each parses its options, calls one library function per shop
(:func:`~journeybridge.config.write_example_config`, :func:`~journeybridge.checks.check_shop`,
:func:`journeybridge.sync.sync`, :func:`~journeybridge.sources.shop_journeys`,
``StateStore.runs``) and prints through :mod:`journeybridge.cli.output`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from journeybridge import checks, config, sources
from journeybridge import sync as engine
from journeybridge.cli import output
from journeybridge.cli.core import (
    EXIT_OK,
    Command,
    Session,
    config_option,
    exit_code_for,
    format_option,
    now_option,
    parse_moment,
    shop_option,
    uses_session,
    worst,
)
from journeybridge.errors import ConfigError, JourneybridgeError
from journeybridge.redact import scrub

__all__ = ["COMMANDS", "check", "init", "journeys", "status", "sync"]


@click.command(cls=Command)
@click.argument("path", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path | None, force: bool) -> None:
    """Write a commented example configuration to PATH (default: the user's configuration
    file). Secrets are never written there: see its last lines."""
    target = config.write_example_config(path, force=force)
    click.echo(f"Wrote an example configuration to {target}.")
    click.echo("Next: edit its [shops.myshop] table, export JOURNEYBRIDGE_MYSHOP_KEY and "
               "JOURNEYBRIDGE_MYSHOP_SECRET, then run: journeybridge check")


@click.command(cls=Command)
@shop_option
@config_option
@uses_session
def check(session: Session, shop_name: str | None) -> None:
    """Test each shop's connection, credentials and read/write permission, and the state
    store; say exactly what is wrong."""
    session.log_to_stderr()
    codes: list[int] = []
    for shop in session.shops(shop_name):
        click.echo(f"{shop.name} ({shop.url})")
        for step in checks.check_shop(session.config, shop):
            mark = "ok" if step.ok else "FAILED"
            click.echo(f"  {step.name:<12} {mark}: {scrub(step.detail)}")
            codes.append(EXIT_OK if step.ok else exit_code_for(step.error, partial=True))
    step = checks.check_store(session.store)
    click.echo(f"{step.name}: {'ok' if step.ok else 'FAILED'}: {scrub(step.detail)}")
    codes.append(EXIT_OK if step.ok else exit_code_for(step.error, partial=True))
    sys.exit(worst(codes))


@click.command(cls=Command)
@shop_option
@click.option("--dry-run", is_flag=True,
              help="Show who would move from which stage to which, and why; write nothing "
                   "to the shop, advance no cursor.")
@click.option("--full", is_flag=True, help="Pull everything, not only what changed.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, metavar="N",
              help="Sync every configured shop, N at a time (worker processes); with a "
                   "PostgreSQL store, the same command on several machines shares the work.")
@click.option("--reset-state", "reset", is_flag=True,
              help="Forget what the state store holds about the shop (records, stages, "
                   "cursors, which shop the name stands for) and start afresh; needs --shop.")
@config_option
@now_option
@click.option("-v", "--verbose", is_flag=True, help="Log progress lines on a terminal too.")
@uses_session
def sync(session: Session, shop_name: str | None, dry_run: bool, full: bool,
         jobs: int | None, reset: bool, now_text: str | None, verbose: bool) -> None:
    """Pull (incrementally after the first run), classify everyone, write back only the
    stages that changed, and record the run. For cron: exits 75 at once if another run is
    syncing the same shop."""
    on_terminal = output.terminal()
    session.log_to_stderr()
    rows: list[dict[str, Any]] = []
    try:
        now = parse_moment(now_text, "--now")
        if reset and shop_name is None:
            raise ConfigError("--reset-state forgets one shop's state: name it with --shop")
        if jobs is not None and (shop_name or dry_run or reset):
            raise ConfigError("--jobs syncs every configured shop: it does not go with "
                              "--shop, --dry-run or --reset-state")
        if jobs is not None:
            from journeybridge.workers import sync_round

            started = time.monotonic()
            for outcome in sync_round(session.config, jobs, full=full, now=now):
                code = exit_code_for(outcome.error, partial=bool(outcome.failures))
                seconds = time.monotonic() - started
                rows.append(output.shop_summary(outcome, seconds, code))
            shops = []
        else:
            shops = session.shops(shop_name)
        store = session.store()
        for shop in shops:
            progress = (output.TerminalProgress(shop=shop.name) if on_terminal
                        else output.JsonProgress(shop.name))
            started = time.monotonic()
            outcome = next(engine.sync(session.config, store, shop.name, dry_run=dry_run,
                                       full=full, now=now, progress=progress, reset=reset))
            code = exit_code_for(outcome.error, partial=bool(outcome.failures))
            rows.append(output.shop_summary(outcome, time.monotonic() - started, code))
            if dry_run:
                output.print_moves(outcome, on_terminal)
            if on_terminal:
                for failure in outcome.failures[:20]:
                    click.echo(scrub(f"journeybridge: [{shop.name}] {failure}"),
                               err=True)
    except JourneybridgeError as exc:
        if not on_terminal:  # cron still gets its one summary line
            output.summary_line({"exit_code": exit_code_for(exc),
                                 "error": scrub(str(exc)), "shops": rows})
        raise
    code = worst(row["exit_code"] for row in rows)
    if on_terminal:
        output.print_table(rows)
    else:
        output.summary_line({"exit_code": code, "shops": rows})
    sys.exit(code)


@click.command(cls=Command)
@shop_option
@config_option
@now_option
@format_option
@uses_session
def journeys(session: Session, shop_name: str | None, now_text: str | None,
             output_format: str) -> None:
    """Print every person's name, stage, since, segments and reasons (JSON lines, CSV or a
    table): from the state store, or from a pull when the shop has no state yet."""
    session.log_to_stderr()
    now = parse_moment(now_text, "--now")
    fmt = output.chosen_format(output_format)
    rows = []
    for shop in session.shops(shop_name):
        found = sources.shop_journeys(session.config, shop, session.store(), now)
        stages = session.config.stages
        for journey, result in zip(found.journeys, found.results):
            row = output.journey_record(shop.name, stages.label(result.stage), journey, result,
                                        found.source)
            row["stage_name"] = stages.display(result.stage)
            if fmt != "json":
                row["reason"] = row["reasons"][0]["text"] if row["reasons"] else ""
            if fmt == "table":  # for reading: no guest's address, the day only
                row["person"] = output.mask_key(row["person"])
                row["since"] = row["since"][:10]
            rows.append(row)
    output.emit_rows(rows, fmt, output.JOURNEY_COLUMNS, output.JOURNEY_TABLE)


@click.command(cls=Command)
@shop_option
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000),
              help="Runs per shop.")
@config_option
@format_option
@uses_session
def status(session: Session, shop_name: str | None, limit: int, output_format: str) -> None:
    """Recent runs per shop: when, how long, what was pulled, changed and written, and
    errors. A table on a terminal, JSON lines otherwise (or as --format says)."""
    session.log_to_stderr()
    fmt = output.chosen_format(output_format)
    rows: list[dict[str, Any]] = []
    for shop in session.shops(shop_name):
        runs = session.store().runs(shop.name, limit)
        if fmt == "table":
            output.print_runs(shop.name, runs, True)
        else:
            rows.extend(run.as_dict() for run in runs)
    if fmt != "table":
        output.emit_rows(rows, fmt, output.RUN_COLUMNS)


COMMANDS = (init, check, sync, journeys, status)
"""The commands of this module, registered on the ``journeybridge`` group."""
