"""The commands that need no shop of one's own: ``demo`` (a generated shop, pulled and
classified like a real one), ``sandbox`` (the generated shop served until stopped) and
``schema`` (the JSON Schema of the model)."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import datetime
from typing import Any

import click

from journeybridge import sources
from journeybridge.cli import output
from journeybridge.cli.core import SANDBOX_TIME_HELP, Command, now_option, parse_moment
from journeybridge.sources import SANDBOX_PLATFORMS

__all__ = ["COMMANDS", "demo", "sandbox", "schema", "schema_document"]

_size = click.option("--size", default=2000, show_default=True,
                     type=click.IntRange(50, 1_000_000), help="Customers in the generated shop.")
_seed = click.option("--seed", default=1, show_default=True, help="Generator seed.")


@click.command(cls=Command, epilog=SANDBOX_TIME_HELP)
@_size
@_seed
@now_option
@click.option("--examples", default=3, show_default=True, type=click.IntRange(0, 8),
              help="Example journeys to explain.")
@click.option("-v", "--verbose", is_flag=True,
              help="Show the facts behind each reason and the churn model's parameters.")
def demo(size: int, seed: int, now_text: str | None, examples: int, verbose: bool) -> None:
    """Generate a shop, serve it on 127.0.0.1, pull it over the WooCommerce API, classify
    everyone, and show the stages with example journeys. No network or credentials needed."""
    started = time.perf_counter()
    now = parse_moment(now_text, "--now")
    click.echo(f"Starting a sandbox WooCommerce shop with {size} customers (seed {seed})...")
    with sources.sandbox_shop(size, seed, now=now) as shop:
        found = sources.shop_journeys(shop.config, shop.shop, None, shop.now,
                                      secrets=shop.secrets)
    report = found.report
    counts = report.counts
    click.echo(f"Pulled {counts.get('customer', 0)} customers, {counts.get('order', 0)} orders "
               f"and {counts.get('review', 0)} reviews in {report.requests} requests; "
               f"{len(found.journeys)} people (guests included); "
               f"{len(report.skipped)} malformed records skipped.")
    click.echo(f"Everyone's stage as of {found.now:%Y-%m-%d %H:%M} UTC:\n")
    click.echo(output.stage_table(found.results, guide=True))
    for journey, classification in output.pick_examples(found.journeys, found.results,
                                                        examples):
        click.echo("")
        click.echo(output.explain_journey(journey, classification, max_touchpoints=8,
                                          verbose=verbose))
    click.echo(f"\nDone in {time.perf_counter() - started:.1f} s.")
    click.echo("Next: `journeybridge sandbox` serves this shop (WooCommerce and PrestaShop) "
               "with keys to try init, check and sync on; `journeybridge init` starts the "
               "configuration for your own shop (README: \"Your own shop\").")
    click.echo("The journey report of this shop (funnel, movement between stages, "
               "abandoned-cart recovery, retention, RFM groups) as one HTML page:\n"
               f"  journeybridge report --sandbox {size}"
               + (f" --seed {seed}" if seed != 1 else "") + " --out report.html")


def schema_document() -> dict[str, Any]:
    """The JSON Schema of a journey (and everything in it) and of a classification."""
    from journeybridge.model import Journey
    from journeybridge.stages import Classification

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "journeybridge",
        "journey": Journey.model_json_schema(),
        "classification": Classification.model_json_schema(),
    }


@click.command(cls=Command)
@click.option("--indent", default=2, show_default=True, help="JSON indentation.")
def schema(indent: int) -> None:
    """Print the JSON Schema of the journey model (Journey and everything in it) and of a
    stage classification."""
    click.echo(json.dumps(schema_document(), indent=indent))


@click.command(cls=Command, epilog=SANDBOX_TIME_HELP)
@_size
@_seed
@now_option
@click.option("--platform", "platforms", type=click.Choice(["both", *SANDBOX_PLATFORMS]),
              default="both", show_default=True,
              help="The APIs to serve: WooCommerce REST (/wp-json/), PrestaShop Webservice "
                   "(/api/), or both.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 (0 picks a free one).")
def sandbox(size: int, seed: int, now_text: str | None, platforms: str, port: int) -> None:
    """Serve the sandbox shop on 127.0.0.1 until stopped (Ctrl-C), for your own tests and
    demos: the WooCommerce and PrestaShop APIs over the same customers. Prints, for each, a
    configuration table to paste and the keys to export."""
    now = parse_moment(now_text, "--now")
    chosen = SANDBOX_PLATFORMS if platforms == "both" else (platforms,)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _serve(size, seed, now, chosen, port, stop)
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("Stopped.")


def _serve(size: int, seed: int, now: datetime | None, platforms: tuple[str, ...], port: int,
           stop: threading.Event) -> None:
    with sources.sandbox_shop(size, seed, now=now, port=port, platforms=platforms) as shop:
        url = shop.server.url
        click.echo(f"Sandbox shop: {url} ({size} customers, seed {seed}, generated for "
                   f"{shop.now.isoformat().replace('+00:00', 'Z')}; the same --seed and --now "
                   f"give the same shop)")
        for endpoint in shop.server.endpoints():
            click.echo("")
            click.echo(output.sandbox_table(endpoint))
        click.echo("\nPaste the tables into your configuration (journeybridge init writes "
                   "one), export the keys, then: journeybridge check")
        click.echo("Press Ctrl-C to stop.")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


COMMANDS = (demo, schema, sandbox)
"""The commands of this module, registered on the ``journeybridge`` group."""
