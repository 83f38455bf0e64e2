"""The ``report`` command: the journey report of a configured shop (its state store and
transition log, or a pull when it has none) or of a generated sandbox shop, as one
self-contained HTML file or as JSON."""

from __future__ import annotations

import gc
from datetime import datetime, timezone
from pathlib import Path

import click

from journeybridge import sources
from journeybridge.cli.core import Command, Session, parse_moment
from journeybridge.errors import ConfigError

__all__ = ["COMMANDS", "report"]

_ALL = 1_000_000_000


@click.command(cls=Command)
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("report.html"), show_default=True, help="File to write.")
@click.option("--format", "fmt", type=click.Choice(["html", "json"]), default="html",
              show_default=True, help="One self-contained HTML page, or the figures as JSON.")
@click.option("--shop", "shop_name", default=None, metavar="NAME",
              help="A configured shop (its state store, or a pull when it has none).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file.")
@click.option("--sandbox", "sandbox_size", type=click.IntRange(50, 100_000), default=None,
              metavar="N", help="Report on a generated sandbox shop of N customers.")
@click.option("--seed", default=1, show_default=True, help="Sandbox generator seed.")
@click.option("--now", "now_text", default=None, metavar="ISO-TIME",
              help="Report as of this moment instead of the current time.")
@click.option("--segment", default=None, metavar="NAME",
              help="Only the people in this configured segment or RFM group.")
def report(out_path: Path, fmt: str, shop_name: str | None, config_path: str | None,
           sandbox_size: int | None, seed: int, now_text: str | None,
           segment: str | None) -> None:
    """Write the journey report: people per stage now and over 26 weeks, movement between
    stages, the funnel, abandoned-cart recovery, retention, pain points, RFM groups and open
    next actions. Without --shop or --config, a generated sandbox shop (2000 customers)."""
    from journeybridge.config import Config
    from journeybridge.report import render_html, render_json
    from journeybridge.report.shop import shop_figures, stage_labels

    now = parse_moment(now_text, "--now")
    # the journeys live until the command ends: keep the collector from rescanning them on
    # every one of the 26 weekly recomputations (a third of the time at 20,000 customers)
    gc.freeze()
    if sandbox_size is not None and (shop_name or config_path):
        raise ConfigError("--sandbox reports on a generated shop: it does not go with --shop "
                          "or --config")
    if sandbox_size is not None or (shop_name is None and config_path is None):
        config = Config()
        with sources.sandbox_shop(sandbox_size or 2000, seed, now=now) as sandbox:
            found = sources.shop_journeys(sandbox.config, sandbox.shop, None, sandbox.now,
                                          secrets=sandbox.secrets)
        figures = shop_figures(found, config, segment=segment)
    else:
        session = Session(Path(config_path) if config_path is not None else None)
        try:
            config = session.config
            shop = session.one_shop(shop_name)
            store = session.store()
            found = sources.shop_journeys(config, shop, store, now or datetime.now(timezone.utc))
            log = store.transitions(shop.name, limit=_ALL) if found.source == "state" else []
            figures = shop_figures(found, config, transitions=log, segment=segment)
        finally:
            session.close()
    text = (render_html(figures, stage_labels(config)) if fmt == "html"
            else render_json(figures))
    try:
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out {out_path}: cannot write ({exc.strerror or exc})") from None
    click.echo(f"Wrote {out_path} ({fmt}, {len(text.encode('utf-8')) // 1024} KB): "
               f"{figures.people} people as of {figures.now:%Y-%m-%d %H:%M} UTC.")


COMMANDS = (report,)
"""The commands of this module, registered on the ``journeybridge`` group."""
