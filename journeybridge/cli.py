"""The ``journeybridge`` command: a thin layer over the library. Typed errors become one line
on stderr and an exit code; nothing here holds business logic."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from journeybridge import __version__
from journeybridge.errors import (
    AuthenticationError,
    ConfigError,
    JourneybridgeError,
    PermissionDenied,
    ShopUnreachable,
)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3


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


if __name__ == "__main__":  # pragma: no cover
    main()
