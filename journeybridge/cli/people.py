"""The commands that look at one shop's people: ``explain`` and ``backtest``. Their journeys
come from :func:`journeybridge.sources.shop_journeys`: a configured shop (``--shop`` /
``--config``: its state store, or a pull when it has none) or a generated sandbox shop
(``--sandbox N``, or neither option given).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from journeybridge import sources
from journeybridge.cli import output
from journeybridge.cli.core import Command, Session
from journeybridge.errors import ConfigError

__all__ = ["COMMANDS", "backtest", "explain"]

F = TypeVar("F", bound=Callable[..., Any])


def _source_options(func: F) -> F:
    """--shop/--config (a configured shop, from the state store or a pull) or --sandbox N."""
    func = click.option("--seed", default=1, show_default=True,
                        help="Sandbox generator seed.")(func)
    func = click.option("--sandbox", "sandbox_size", type=click.IntRange(50, 100_000),
                        default=None, help="Use a generated sandbox shop of this size.")(func)
    func = click.option("--config", "config_path", type=click.Path(dir_okay=False),
                        default=None, help="Configuration file.")(func)
    return click.option("--shop", "shop_name", default=None, metavar="NAME",
                        help="A configured shop (its state store, or a pull when it has "
                             "none).")(func)


def _people(shop_name: str | None, config_path: str | None, sandbox_size: int | None,
            seed: int) -> sources.ShopJourneys:
    """The people to look at: the sandbox's, or the configured shop's."""
    if sandbox_size is not None or (shop_name is None and config_path is None):
        with sources.sandbox_shop(sandbox_size or 2000, seed) as sandbox:
            return sources.shop_journeys(sandbox.config, sandbox.shop, None, sandbox.now,
                                         secrets=sandbox.secrets)
    session = Session(Path(config_path) if config_path is not None else None)
    try:
        shop = session.one_shop(shop_name)
        return sources.shop_journeys(session.config, shop, session.store(),
                                     datetime.now(timezone.utc))
    finally:
        session.close()


@click.command(cls=Command)
@click.argument("person")
@_source_options
def explain(person: str, shop_name: str | None, config_path: str | None,
            sandbox_size: int | None, seed: int) -> None:
    """Print one person's timeline, stage and the reasons for it. PERSON is a person key
    (``customer:42``, ``guest:anna@example.com``) or an e-mail address. Without --shop or
    --config, a generated sandbox shop is used."""
    found = _people(shop_name, config_path, sandbox_size, seed)
    index = found.find(person)
    click.echo(output.explain_journey(found.journeys[index], found.results[index],
                                      max_touchpoints=40))


@click.command(cls=Command)
@click.option("--cutoff", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Classify as of this date (default: horizon + 90 days before the data end; "
                   "with --transactions, the horizon before the last transaction).")
@click.option("--horizon", default=90.0, show_default=True, type=click.FloatRange(1, 3650),
              help="Days after the cutoff in which a buyer counts as returned.")
@click.option("--transactions", "transactions", default=None, metavar="FILE.csv",
              type=click.Path(dir_okay=False, exists=True),
              help="Backtest a purchase history from any system: a CSV file with the columns "
                   "customer_id, order_id, date (YYYY-MM-DD), amount, currency.")
@_source_options
def backtest(cutoff: datetime | None, horizon: float, transactions: str | None,
             shop_name: str | None, config_path: str | None, sandbox_size: int | None,
             seed: int) -> None:
    """Does the at-risk flag work in this shop? Classify as of a past date and compare with
    what buyers did next: ranking (AUC), precision and recall of the flags and calibration,
    side by side with days-since-last-order, a fixed 180-day flag and the shop's own gate.
    Without --shop, --config or --transactions, a generated sandbox."""
    from journeybridge.stages import StageSettings
    from journeybridge.stages.backtest import backtest as run_backtest

    if transactions is not None:
        from journeybridge.transactions import read_transactions

        journeys = read_transactions(Path(transactions))
        if not journeys:
            raise ConfigError(f"{Path(transactions).name} has no transactions")
        end = max(t.at for j in journeys for t in j.touchpoints)
        settings = StageSettings(horizon_days=horizon)
        default_cutoff = end - timedelta(days=horizon)
    else:
        found = _people(shop_name, config_path, sandbox_size, seed)
        journeys, end, settings = found.journeys, found.now, found.settings
        default_cutoff = found.now - timedelta(days=horizon + 90)
    when = (cutoff.replace(tzinfo=timezone.utc) if cutoff is not None else default_cutoff)
    try:
        report = run_backtest(journeys, when, horizon_days=horizon,
                              settings=settings, data_end=end)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    click.echo("\n".join(report.lines()))


COMMANDS = (explain, backtest)
"""The commands of this module, registered on the ``journeybridge`` group."""
