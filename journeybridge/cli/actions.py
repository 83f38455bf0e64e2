"""The ``actions`` command: every person's open next action (:mod:`journeybridge.actions`)
for a configured shop (its state store, or a pull when it has none) or a generated sandbox
shop (``--sandbox N``), as JSON lines, CSV or a table. Reads only; a cron step of its own.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from journeybridge import sources
from journeybridge.actions import ActionSettings, shop_actions
from journeybridge.cli import output
from journeybridge.cli.core import Command, Session, config_option, now_option, parse_moment

__all__ = ["COMMANDS", "actions"]

COLUMNS = ("shop", "person", "kind", "due", "expires", "id", "stage", "tracking_number",
           "carrier", "record", "reason")
"""The fields of one action line, in CSV order."""


def _rows(found: sources.ShopJourneys, settings: ActionSettings, zone: ZoneInfo
          ) -> Iterator[dict[str, str | None]]:
    for _journey, classification, action in shop_actions(
            found.journeys, found.results, found.now, zone, settings):
        yield {"shop": found.shop, **action.as_dict(), "stage": classification.stage.value}


def _found(shop_name: str | None, config_path: Path | None, sandbox_size: int | None,
           seed: int, now: datetime | None
           ) -> Iterator[tuple[sources.ShopJourneys, ActionSettings, ZoneInfo]]:
    if sandbox_size is not None:
        with sources.sandbox_shop(sandbox_size, seed, now=now) as sandbox:
            found = sources.shop_journeys(sandbox.config, sandbox.shop, None, sandbox.now,
                                          secrets=sandbox.secrets)
            yield found, sandbox.config.actions, ZoneInfo(sandbox.shop.timezone)
        return
    session = Session(config_path)
    try:
        session.log_to_stderr()
        for shop in session.shops(shop_name):
            found = sources.shop_journeys(session.config, shop, session.store(), now)
            yield found, session.config.actions, ZoneInfo(shop.timezone)
    finally:
        session.close()


def _table(rows: list[dict[str, str | None]]) -> None:
    headers = ("person", "kind", "due", "expires", "reason")
    shown = [[output.mask_key(str(r["person"])), str(r["kind"]), str(r["due"])[:16],
              str(r["expires"])[:16], str(r["reason"])] for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in shown)]) for i, h in enumerate(headers[:-1])]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, [*widths, 0])).rstrip())
    for r in shown:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, [*widths, 0])).rstrip())
    kinds: dict[str, int] = {}
    for row in rows:
        kinds[str(row["kind"])] = kinds.get(str(row["kind"]), 0) + 1
    click.echo(f"{len(rows)} open actions" + (": " + ", ".join(
        f"{k} {n}" for k, n in sorted(kinds.items())) if kinds else ""))


@click.command(cls=Command)
@click.option("--shop", "shop_name", default=None, metavar="NAME",
              help="Only this configured shop (default: every configured shop in turn).")
@config_option
@click.option("--sandbox", "sandbox_size", type=click.IntRange(50, 100_000), default=None,
              metavar="N", help="Use a generated sandbox shop of N customers instead.")
@click.option("--seed", default=1, show_default=True, help="Sandbox generator seed.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "table"]), default=None,
              help="JSON lines, CSV or a table [default: a table on a terminal, JSON lines "
                   "otherwise].")
@now_option
def actions(shop_name: str | None, config_path: Path | None, sandbox_size: int | None,
            seed: int, fmt: str | None, now_text: str | None) -> None:
    """List every person's open next action (cart reminder, payment help, track and trace,
    review request, win-back, reactivation, thank-you, welcome) with its due time, expiry,
    stable id and reason: from the shop's state store (a pull when it has none), or from a
    generated sandbox shop with --sandbox N."""
    now = parse_moment(now_text, "--now")
    chosen = fmt or ("table" if sys.stdout.isatty() else "json")
    writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n") \
        if chosen == "csv" else None
    if writer is not None:
        writer.writeheader()
    for found, settings, zone in _found(shop_name, config_path, sandbox_size, seed, now):
        rows = _rows(found, settings, zone)
        if chosen == "json":
            for row in rows:
                output.echo_json(row)
        elif writer is not None:
            for row in rows:
                writer.writerow(row)
            sys.stdout.flush()
        else:
            click.echo(f"{found.shop} ({found.url}), as of {found.now.isoformat()}")
            _table(list(rows))


COMMANDS = (actions,)
"""The commands of this module, registered on the ``journeybridge`` group."""
