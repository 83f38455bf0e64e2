"""``journeybridge export-events``: journeys to Meta Conversions API server events, written as
JSON lines and/or sent to the Graph API. A thin layer over :func:`journeybridge.events.
export_events`; register it with ``main.add_command(export_events)``.

Where the journeys come from: a configured shop (``--config``/``--shop``), a shop given by
``--url`` (keys from the environment, never from arguments), or ``--sandbox`` (a generated shop
served on 127.0.0.1, for trying it out). Only ``--send`` talks to Meta; its access token comes
from the environment (``JOURNEYBRIDGE_META_ACCESS_TOKEN`` unless ``--token-env`` names another).

Exit codes: 0 success; 1 some events refused or left unsent (each batch reported); 2
configuration error; 3 a shop unreachable, its keys refused, or Meta refused the token.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

import click

from journeybridge.cli_common import (
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNREACHABLE,
    parse_moment,
)
from journeybridge.errors import ConfigError, JourneybridgeError
from journeybridge.events import (
    ConsentPolicy,
    EventSettings,
    ExportResult,
    GraphAuthError,
    GraphSink,
    JsonlSink,
    SentEvents,
    export_events,
)
from journeybridge.events.graph import DEFAULT_API_VERSION, DEFAULT_BASE_URL, MAX_BATCH
from journeybridge.model import Journey

__all__ = ["export_events_command"]

TOKEN_ENV = "JOURNEYBRIDGE_META_ACCESS_TOKEN"  # noqa: S105 - a variable name



@contextlib.contextmanager
def _sandbox_journeys(size: int, seed: int, since: datetime | None
                      ) -> Iterator[tuple[list[Journey], str, str]]:
    from journeybridge.adapters.woocommerce import WooCommerceAdapter
    from journeybridge.sandbox import Population, SandboxServer

    with SandboxServer(Population(size, seed=seed)) as server:
        creds = server.woo_credentials
        with WooCommerceAdapter(server.url, creds.key, creds.secret, shop="sandbox") as shop:
            pull = shop.pull(since)
            yield shop.assemble(pull).journeys, server.url, "sandbox"


def _url_journeys(url: str, platform: str, key_env: str, secret_env: str,
                  since: datetime | None) -> tuple[list[Journey], str, str]:
    if platform != "woocommerce":
        raise ConfigError(f"--platform {platform}: only woocommerce can be pulled so far")
    key, secret = os.environ.get(key_env), os.environ.get(secret_env)
    if not key or not secret:
        raise ConfigError(f"--url needs the shop's API key and secret in the environment: set "
                          f"{key_env} and {secret_env}")
    from journeybridge.adapters.woocommerce import WooCommerceAdapter

    with WooCommerceAdapter(url, key, secret) as shop:
        pull = shop.pull(since)
        return shop.assemble(pull).journeys, url, shop.shop


def _config_journeys(config_path: Path | None, shop_name: str | None,
                     since: datetime | None) -> tuple[list[Journey], str, str, str]:
    from journeybridge.config import load_config, load_secrets
    from journeybridge.sync import open_adapter

    config = load_config(config_path)
    shops = config.select(shop_name)
    if len(shops) != 1:
        raise ConfigError(f"{config.path}: several shops configured; choose one with --shop "
                          f"({', '.join(s.name for s in shops)})")
    shop = shops[0]
    with open_adapter(shop, load_secrets(config, shop)) as adapter:
        pull = adapter.pull(since)
        return adapter.assemble(pull).journeys, shop.url, shop.name, config.state_url()


def _default_state() -> str:
    from journeybridge.config import default_state_path

    return f"sqlite:///{default_state_path()}"


def _allowed(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the consent list: {exc.strerror}") from None
    return frozenset(line.strip() for line in lines if line.strip()
                     and not line.lstrip().startswith("#"))


def _summary(result: ExportResult, out: TextIO) -> None:
    mapped = result.mapped
    names = ", ".join(f"{name} {count}" for name, count in sorted(mapped.by_name().items()))
    click.echo(f"{mapped.people} people, {len(mapped.events)} events"
               + (f" ({names})" if names else ""), file=out)
    if mapped.people_left_out:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in mapped.people_left_out.items())
        click.echo(f"  left out for lack of consent: {sum(mapped.people_left_out.values())} "
                   f"people ({reasons})", file=out)
    if mapped.people_limited:
        click.echo(f"  sent with Limited Data Use (no consent): {mapped.people_limited} people",
                   file=out)
    for reason, count in sorted(mapped.not_sent.items()):
        click.echo(f"  not mapped: {count} ({reason})", file=out)
    for problem, count in sorted(mapped.dropped_fields.items()):
        click.echo(f"  customer field dropped: {problem} ({count} events)", file=out)
    if result.report is not None:
        r = result.report
        click.echo(f"  Graph API: sent {r.sent}, already sent {r.already_sent}, older than 7 "
                   f"days {r.too_old}, in the future {r.in_future}, refused {r.failed}, not "
                   f"attempted {r.not_attempted}, in {len(r.batches)} batches", file=out)
        for batch in r.batches:
            if not batch.ok:
                click.echo(f"  batch {batch.number} ({batch.events} events): "
                           f"{len(batch.failed_event_ids)} refused: {batch.error}", file=out)
        if r.stopped:
            click.echo(f"  stopped: {r.stopped}", file=out)


@click.command("export-events")
@click.option("--since", "since_text", default=None, metavar="DATE",
              help="Events from this date or ISO time on (UTC) [default: 7 days ago].")
@click.option("--until", "until_text", default=None, metavar="DATE",
              help="Events before this date or ISO time (UTC) [default: no limit].")
@click.option("--out", "out_path", default=None, metavar="FILE",
              help="Write the events as JSON lines to FILE ('-' for standard output).")
@click.option("--send", is_flag=True, help="Send the events to the Graph API (--pixel-id).")
@click.option("--dry-run", is_flag=True,
              help="With --send: map and count everything, send nothing, remember nothing.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Configuration file (a configured shop).")
@click.option("--shop", "shop_name", default=None, metavar="NAME",
              help="The configured shop (needed when several are configured).")
@click.option("--url", default=None, help="A shop's address, instead of a configured shop.")
@click.option("--platform", type=click.Choice(["woocommerce", "prestashop"]),
              default="woocommerce", show_default=True, help="The platform at --url.")
@click.option("--key-env", default="JOURNEYBRIDGE_KEY", show_default=True,
              help="Environment variable with the API key of --url.")
@click.option("--secret-env", default="JOURNEYBRIDGE_SECRET", show_default=True,
              help="Environment variable with the API secret of --url.")
@click.option("--sandbox", is_flag=True, help="Use a generated sandbox shop on 127.0.0.1.")
@click.option("--size", default=500, show_default=True, type=click.IntRange(50, 100_000),
              help="Customers in the sandbox shop.")
@click.option("--seed", default=1, show_default=True, help="Sandbox generator seed.")
@click.option("--pixel-id", default=None, envvar="JOURNEYBRIDGE_META_PIXEL_ID",
              help="The Meta pixel (dataset) id [env: JOURNEYBRIDGE_META_PIXEL_ID].")
@click.option("--token-env", default=TOKEN_ENV, show_default=True,
              help="Environment variable holding the Conversions API access token.")
@click.option("--api-version", default=DEFAULT_API_VERSION, show_default=True)
@click.option("--graph-url", default=DEFAULT_BASE_URL, show_default=True,
              help="Graph API base URL (a fake one for tests).")
@click.option("--test-event-code", default=None,
              help="Send as test events (Events Manager > Test events); not remembered.")
@click.option("--batch-size", default=MAX_BATCH, show_default=True,
              type=click.IntRange(1, MAX_BATCH))
@click.option("--state", "state_url", default=None, metavar="URL",
              help="State database remembering sent event ids (sqlite:///path, a file path or "
                   "postgresql://) [default: the configured state, else the default file].")
@click.option("--newsletter-event", type=click.Choice(["Subscribe", "Lead"]),
              default="Subscribe", show_default=True)
@click.option("--consent", "consent_source",
              type=click.Choice(["all", "newsletter", "meta", "list"]), default="all",
              show_default=True, help="Where consent to share with Meta is recorded.")
@click.option("--consent-key", default=None, help="With --consent meta: the meta key.")
@click.option("--consent-list", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="With --consent list: a file of e-mails or person keys, one a line.")
@click.option("--without-consent", type=click.Choice(["drop", "ldu"]), default="drop",
              show_default=True,
              help="People without consent: left out, or sent with Limited Data Use.")
@click.option("--fallback-action-source", type=click.Choice(["other", "system_generated"]),
              default="other", show_default=True,
              help="action_source of events whose browser (user agent) is unknown.")
@click.option("-v", "--verbose", is_flag=True, help="Log every batch.")
def export_events_command(
    since_text: str | None, until_text: str | None, out_path: str | None, send: bool,
    dry_run: bool, config_path: Path | None, shop_name: str | None, url: str | None,
    platform: str, key_env: str, secret_env: str, sandbox: bool, size: int, seed: int,
    pixel_id: str | None, token_env: str, api_version: str, graph_url: str,
    test_event_code: str | None, batch_size: int, state_url: str | None,
    newsletter_event: str, consent_source: str, consent_key: str | None,
    consent_list: Path | None, without_consent: str, fallback_action_source: str,
    verbose: bool,
) -> None:
    """Turn journey touchpoints into Meta Conversions API server events (Purchase,
    InitiateCheckout, AddToCart, CompleteRegistration, Subscribe) with hashed customer
    information: written as JSON lines (--out) and/or sent to a pixel (--send)."""
    try:
        code = _run(**locals())
    except GraphAuthError as exc:
        from journeybridge.logs import scrub

        if exc.report is not None:
            click.echo(f"  sent {exc.report.sent} events before the token was refused",
                       err=True)
        click.echo(scrub(f"journeybridge: {exc}"), err=True)
        code = EXIT_UNREACHABLE
    except JourneybridgeError as exc:
        from journeybridge.cli_sync import exit_code_for
        from journeybridge.logs import scrub

        code = exit_code_for(exc)
        kind = "configuration error: " if code == EXIT_CONFIG else ""
        click.echo(scrub(f"journeybridge: {kind}{exc}"), err=True)
    sys.exit(code)


def _run(*, since_text: str | None, until_text: str | None, out_path: str | None,
         send: bool, dry_run: bool, config_path: Path | None, shop_name: str | None,
         url: str | None, platform: str, key_env: str, secret_env: str, sandbox: bool,
         size: int, seed: int, pixel_id: str | None, token_env: str, api_version: str,
         graph_url: str, test_event_code: str | None, batch_size: int,
         state_url: str | None, newsletter_event: str, consent_source: str,
         consent_key: str | None, consent_list: Path | None, without_consent: str,
         fallback_action_source: str, verbose: bool) -> int:
    from journeybridge.logs import configure_logging

    configure_logging(sys.stderr.isatty(), verbose=verbose)
    if sum((sandbox, url is not None, config_path is not None or shop_name is not None)) > 1:
        raise ConfigError("choose one source: --sandbox, --url, or a configured shop")
    if not out_path and not send:
        raise ConfigError("nothing to do: give --out FILE (or '-') and/or --send")
    since = parse_moment(since_text, "--since") or datetime.now(timezone.utc) - timedelta(days=7)
    until = parse_moment(until_text, "--until")
    token = ""
    if send:
        if not pixel_id:
            raise ConfigError("--send needs --pixel-id (or JOURNEYBRIDGE_META_PIXEL_ID)")
        token = os.environ.get(token_env, "")
        if not token and not dry_run:
            raise ConfigError(f"--send needs the Conversions API access token in the "
                              f"environment variable {token_env}")
    try:
        consent = ConsentPolicy(source=consent_source,
                                meta_key=consent_key, allowed=_allowed(consent_list),
                                without_consent=without_consent)
    except ValueError as exc:
        raise ConfigError(f"--consent {consent_source}: {exc}") from None

    with contextlib.ExitStack() as stack:
        configured_state: str | None = None
        if sandbox:
            journeys, shop_url, shop_id = stack.enter_context(
                _sandbox_journeys(size, seed, since))
        elif url is not None:
            journeys, shop_url, shop_id = _url_journeys(url, platform, key_env, secret_env,
                                                        since)
        else:
            journeys, shop_url, shop_id, configured_state = _config_journeys(
                config_path, shop_name, since)
        settings = EventSettings(shop_url=shop_url, shop_id=shop_id,
                                 newsletter_event=newsletter_event,
                                 fallback_action_source=fallback_action_source)
        jsonl = None
        if out_path == "-":
            jsonl = JsonlSink(sys.stdout)
        elif out_path:
            jsonl = JsonlSink(stack.enter_context(open(out_path, "w", encoding="utf-8")))
        graph = None
        if send and not dry_run and pixel_id:
            sent = stack.enter_context(SentEvents.open(
                state_url or configured_state or _default_state(), f"pixel:{pixel_id}"))
            graph = GraphSink(pixel_id, token, api_version=api_version, base_url=graph_url,
                              test_event_code=test_event_code, batch_size=batch_size,
                              sent=sent)
        result = export_events(journeys, settings, consent, since=since, until=until,
                               jsonl=jsonl, graph=graph)
    _summary(result, sys.stderr)
    return EXIT_OK if result.ok else EXIT_PARTIAL
