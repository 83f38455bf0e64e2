"""The commands that look at one shop's people: ``explain`` and ``backtest``. Their journeys
come from :func:`journeybridge.sources.shop_journeys`: the configured shop (the only one, or
``--shop``; its state store, or a pull when it has none), or a generated sandbox shop with
``--sandbox N`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from journeybridge import sources
from journeybridge.cli import output
from journeybridge.cli.core import Command, Session, now_option, parse_moment, sandbox_options
from journeybridge.errors import ConfigError

__all__ = ["COMMANDS", "backtest", "explain"]

F = TypeVar("F", bound=Callable[..., Any])


def _source_options(func: F) -> F:
    """--shop/--config (a configured shop, from its state store or a pull), or --sandbox N
    (a generated shop of N customers; --seed and --now make it reproducible)."""
    func = now_option(func)
    func = sandbox_options(func)
    func = click.option("--config", "config_path", type=click.Path(dir_okay=False),
                        default=None, help="Configuration file [default: $JOURNEYBRIDGE_CONFIG "
                                           "or ~/.config/journeybridge/config.toml].")(func)
    return click.option("--shop", "shop_name", default=None, metavar="NAME",
                        help="The configured shop (needed when several are configured).")(func)


def _people(shop_name: str | None, config_path: str | None, sandbox_size: int | None,
            seed: int, now_text: str | None) -> sources.ShopJourneys:
    """The people to look at: the sandbox's with --sandbox N, else the configured shop's
    (the only one, or the one --shop names)."""
    now = parse_moment(now_text, "--now")
    if sandbox_size is not None:
        if shop_name is not None or config_path is not None:
            raise ConfigError("choose one source: --sandbox N, or a configured shop "
                              "(--shop/--config)")
        with sources.sandbox_shop(sandbox_size, seed, now=now) as sandbox:
            return sources.shop_journeys(sandbox.config, sandbox.shop, None, sandbox.now,
                                         secrets=sandbox.secrets)
    session = Session(Path(config_path) if config_path is not None else None)
    try:
        shop = session.one_shop(shop_name)
        return sources.shop_journeys(session.config, shop, session.store(),
                                     now or datetime.now(timezone.utc))
    finally:
        session.close()


@click.command(cls=Command)
@click.argument("person")
@_source_options
@click.option("-v", "--verbose", is_flag=True,
              help="Show the rule names, the facts behind each reason and the churn model.")
def explain(person: str, shop_name: str | None, config_path: str | None,
            sandbox_size: int | None, seed: int, now_text: str | None,
            verbose: bool) -> None:
    """Print one person's timeline, stage and the reasons for it. PERSON is a person key
    (customer:42, guest:anna@example.com) or an e-mail address. Reads the configured shop
    (the only one, or --shop NAME); --sandbox N reads a generated shop instead."""
    found = _people(shop_name, config_path, sandbox_size, seed, now_text)
    index = found.find(person)
    click.echo(output.explain_journey(found.journeys[index], found.results[index],
                                      max_touchpoints=40, verbose=verbose))


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
             seed: int, now_text: str | None) -> None:
    """Does the at-risk flag work in this shop? Classify as of a past date and compare with
    what buyers did next: ranking (AUC), precision and recall of the flags and calibration,
    side by side with days-since-last-order, a fixed 180-day flag and the shop's own gate.
    Reads the configured shop (the only one, or --shop NAME); --sandbox N reads a generated
    shop instead, --transactions FILE.csv a purchase history from any system."""
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
        found = _people(shop_name, config_path, sandbox_size, seed, now_text)
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
