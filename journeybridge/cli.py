"""The ``journeybridge`` command: a thin layer over the library. Typed errors become one line
on stderr and an exit code; nothing here holds business logic."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import wraps
from typing import Any, TypeVar

import click

from journeybridge import __version__
from journeybridge.cli_common import EXIT_CONFIG, EXIT_PARTIAL, EXIT_UNREACHABLE
from journeybridge.errors import (
    AuthenticationError,
    ConfigError,
    JourneybridgeError,
    PermissionDenied,
    ShopUnreachable,
)
from journeybridge.model import Journey
from journeybridge.stages import StageSettings

F = TypeVar("F", bound=Callable[..., Any])



def _errors_to_exit_codes(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"journeybridge: configuration error: {exc}", err=True)
            sys.exit(EXIT_CONFIG)
        except (ShopUnreachable, AuthenticationError, PermissionDenied) as exc:
            click.echo(f"journeybridge: {exc}", err=True)
            sys.exit(EXIT_UNREACHABLE)
        except JourneybridgeError as exc:
            click.echo(f"journeybridge: {exc}", err=True)
            sys.exit(EXIT_PARTIAL)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="journeybridge")
def main() -> None:
    """Where every customer of your WooCommerce or PrestaShop shop stands in their journey,
    why, and since when."""


@main.command()
@click.option("--size", default=2000, show_default=True, type=click.IntRange(50, 1_000_000),
              help="Customers in the generated shop.")
@click.option("--seed", default=1, show_default=True, help="Generator seed.")
@click.option("--examples", default=3, show_default=True, type=click.IntRange(0, 8),
              help="Example journeys to explain.")
@_errors_to_exit_codes
def demo(size: int, seed: int, examples: int) -> None:
    """Generate a shop, serve it on 127.0.0.1, pull it over the WooCommerce API, classify
    everyone, and show the stages with example journeys. No network or credentials needed."""
    from journeybridge.demo import pick_examples, run_demo
    from journeybridge.reporting import explain_journey, stage_table

    click.echo(f"Starting a sandbox WooCommerce shop with {size} customers (seed {seed})...")
    result = run_demo(size=size, seed=seed)
    report = result.report
    click.echo(f"Pulled {report.customers} customers, {report.orders} orders and "
               f"{report.reviews} reviews in {result.requests} requests; "
               f"{len(result.journeys)} people (guests included); "
               f"{report.skipped_count} malformed records skipped.\n")
    click.echo(stage_table(result.results))
    for journey, classification in pick_examples(result, examples):
        click.echo("")
        click.echo(explain_journey(journey, classification, max_touchpoints=8))
    click.echo(f"\nDone in {result.seconds:.1f} s.")


@main.command()
@click.option("--indent", default=2, show_default=True, help="JSON indentation.")
def schema(indent: int) -> None:
    """Print the JSON Schema of the journey model (Journey and everything in it) and of a
    stage classification."""
    from journeybridge.model import Journey
    from journeybridge.stages import Classification

    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "journeybridge",
        "journey": Journey.model_json_schema(),
        "classification": Classification.model_json_schema(),
    }
    click.echo(json.dumps(document, indent=indent))


@main.command()
@click.option("--size", default=2000, show_default=True, type=click.IntRange(50, 1_000_000),
              help="Customers in the generated shop.")
@click.option("--seed", default=1, show_default=True, help="Generator seed.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 (0 picks a free one).")
def sandbox(size: int, seed: int, port: int) -> None:
    """Serve the sandbox shop on 127.0.0.1 until stopped (Ctrl-C), for your own tests and
    demos. Prints its base URL and API credentials."""
    from journeybridge.sandbox import Population, SandboxServer

    population = Population(size, seed=seed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SandboxServer(population, port=port) as server:
        creds = server.woo_credentials
        click.echo(f"Sandbox WooCommerce shop: {server.url}")
        click.echo(f"  REST API:            {server.url}/wp-json/wc/v3/")
        click.echo(f"  consumer key:        {creds.key}")
        click.echo(f"  consumer secret:     {creds.secret}")
        click.echo(f"  read-only key:       {creds.ro_key}")
        click.echo(f"  read-only secret:    {creds.ro_secret}")
        click.echo(f"  customers: {size}, seed: {seed}, now: {population.now.isoformat()}")
        click.echo("Press Ctrl-C to stop.")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    click.echo("Stopped.")


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


def _journeys_from(shop_name: str | None, config_path: str | None, sandbox_size: int | None,
                   seed: int) -> tuple[list[Journey], datetime, StageSettings]:
    """The journeys to look at, the moment they were known to, and the stage settings."""
    from journeybridge.demo import sandbox_journeys

    if sandbox_size is not None or (shop_name is None and config_path is None):
        journeys, now = sandbox_journeys(sandbox_size or 2000, seed)
        return journeys, now, StageSettings()
    from journeybridge.config import load_config
    from journeybridge.state import open_store
    from journeybridge.sync import current_journeys

    config = load_config(config_path)
    shops = config.select(shop_name)
    if len(shops) != 1:
        raise ConfigError(f"{config_path or 'the configuration'}: name one shop with --shop "
                          f"(configured: {', '.join(s.name for s in shops)})")
    now = datetime.now(timezone.utc)
    with open_store(config.state_url()) as store:
        journeys, _, _ = current_journeys(config, shops[0], store, now)
    return journeys, now, config.stages.settings


@main.command()
@click.argument("person")
@_source_options
@_errors_to_exit_codes
def explain(person: str, shop_name: str | None, config_path: str | None,
            sandbox_size: int | None, seed: int) -> None:
    """Print one person's timeline, stage and the reasons for it. PERSON is a person key
    (``customer:42``, ``guest:anna@example.com``) or an e-mail address. Without --shop or
    --config, a generated sandbox shop is used."""
    from journeybridge.model import normalize_email
    from journeybridge.reporting import explain_journey
    from journeybridge.stages import classify_all

    journeys, now, settings = _journeys_from(shop_name, config_path, sandbox_size, seed)
    wanted = person.strip()
    email = normalize_email(wanted)
    index = next((i for i, j in enumerate(journeys)
                  if j.key == wanted or (email is not None and j.person.email == email)), None)
    if index is None:
        click.echo(f"journeybridge: no person {wanted!r} in this shop", err=True)
        sys.exit(EXIT_PARTIAL)
    results = classify_all(journeys, now=now, settings=settings)
    click.echo(explain_journey(journeys[index], results[index], max_touchpoints=40))


@main.command()
@click.option("--cutoff", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Classify as of this date (default: horizon + 90 days before the data end).")
@click.option("--horizon", default=90.0, show_default=True, type=click.FloatRange(1, 3650),
              help="Days after the cutoff in which a buyer counts as returned.")
@_source_options
@_errors_to_exit_codes
def backtest(cutoff: datetime | None, horizon: float, shop_name: str | None,
             config_path: str | None, sandbox_size: int | None, seed: int) -> None:
    """Does the at-risk flag work in this shop? Classify as of a past date and compare with
    what buyers did next: ranking (AUC), precision and recall of the flags and calibration,
    next to plain days-since-last-order. Without --shop or --config, a generated sandbox."""
    from journeybridge.stages.backtest import backtest as run_backtest

    journeys, now, settings = _journeys_from(shop_name, config_path, sandbox_size, seed)
    when = (cutoff.replace(tzinfo=timezone.utc) if cutoff is not None
            else now - timedelta(days=horizon + 90))
    try:
        report = run_backtest(journeys, when, horizon_days=horizon, settings=settings,
                              data_end=now)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    click.echo("\n".join(report.lines()))


def _register_commands() -> None:
    from journeybridge.cli_events import export_events_command
    from journeybridge.cli_sync import COMMANDS

    for command in COMMANDS:
        main.add_command(command)
    main.add_command(export_events_command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
