"""``journeybridge export-events``: journeys to Meta Conversions API server events, as JSON
lines and/or sent to the Graph API. The orchestration is :func:`journeybridge.events.export.
run_export`; the journeys come from :func:`journeybridge.sources.shop_journeys`.

Where the journeys come from: a configured shop (``--config``/``--shop``: its state store, or
a pull when it has none; ``--from-state``: the store only, no shop key needed), a shop given
by ``--url`` (keys from the environment, never from
arguments), or ``--sandbox`` (a generated shop served on 127.0.0.1, for trying it out). Only
``--send`` talks to Meta; its access token comes from the environment
(``JOURNEYBRIDGE_META_ACCESS_TOKEN`` unless ``--token-env`` names another). A configured
shop's ``[shops.NAME.events]`` table gives the pixel, consent, action source, newsletter event,
token variable and test event code; options given on the command line win.

Exit codes: 0 success; 1 some events refused or left unsent (each batch reported); 2
configuration error; 3 a shop unreachable, its keys refused, or Meta refused the token.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

import click

from journeybridge import sources
from journeybridge.adapters import PLATFORMS
from journeybridge.cli import output
from journeybridge.cli.core import (
    EXIT_OK,
    EXIT_PARTIAL,
    SANDBOX_TIME_HELP,
    Command,
    Session,
    now_option,
    parse_moment,
)
from journeybridge.config import EventsConfig
from journeybridge.errors import ConfigError, GraphAuthError
from journeybridge.events import EventSettings
from journeybridge.events import export as exporting
from journeybridge.events.graph import DEFAULT_API_VERSION, DEFAULT_BASE_URL, MAX_BATCH

__all__ = ["COMMANDS", "TOKEN_ENV", "export_events_command"]

TOKEN_ENV = "JOURNEYBRIDGE_META_ACCESS_TOKEN"  # noqa: S105 - a variable name


@click.command("export-events", cls=Command)
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
@click.option("--platform", type=click.Choice(PLATFORMS),
              default="woocommerce", show_default=True, help="The platform at --url.")
@click.option("--key-env", default="JOURNEYBRIDGE_KEY", show_default=True,
              help="Environment variable with the API key of --url.")
@click.option("--secret-env", default="JOURNEYBRIDGE_SECRET", show_default=True,
              help="Environment variable with the API secret of --url.")
@click.option("--sandbox", "sandbox_size", type=click.IntRange(0, 100_000), is_flag=False,
              flag_value=0, default=None, metavar="N",
              help="Use a generated sandbox shop of N customers on 127.0.0.1. "
                   + SANDBOX_TIME_HELP)
@click.option("--size", default=None, type=click.IntRange(50, 100_000), hidden=True,
              help="Deprecated: the size goes with --sandbox N.")
@click.option("--seed", default=1, show_default=True, help="Sandbox generator seed.")
@now_option
@click.option("--pixel-id", default=None, envvar="JOURNEYBRIDGE_META_PIXEL_ID",
              help="The Meta pixel (dataset) id [env: JOURNEYBRIDGE_META_PIXEL_ID; "
                   "config: events.pixel_id].")
@click.option("--token-env", default=None,
              help=f"Environment variable holding the Conversions API access token "
                   f"[config: events.token_env; default: {TOKEN_ENV}].")
@click.option("--api-version", default=DEFAULT_API_VERSION, show_default=True)
@click.option("--graph-url", default=DEFAULT_BASE_URL, show_default=True,
              help="Graph API base URL (a fake one for tests).")
@click.option("--test-event-code", default=None,
              help="Send as test events (Events Manager > Test events); not remembered "
                   "[config: events.test_event_code].")
@click.option("--batch-size", default=MAX_BATCH, show_default=True,
              type=click.IntRange(1, MAX_BATCH))
@click.option("--state", "state_url", default=None, metavar="URL",
              help="State database remembering sent event ids (sqlite:///path, a file path or "
                   "postgresql://) [default: the configured state, else the default file].")
@click.option("--newsletter-event", type=click.Choice(["Subscribe", "Lead"]), default=None,
              help="[config: events.newsletter_event; default: Subscribe]")
@click.option("--consent", "consent_source",
              type=click.Choice(["all", "newsletter", "meta", "list"]), default=None,
              help="Where consent to share with Meta is recorded [config: events.consent; "
                   "default: all].")
@click.option("--consent-key", default=None,
              help="With --consent meta: the meta key [config: events.consent_key].")
@click.option("--consent-list", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="With --consent list: a file of e-mails or person keys, one a line "
                   "[config: events.consent_list].")
@click.option("--without-consent", type=click.Choice(["drop", "ldu"]), default=None,
              help="People without consent: left out, or sent with Limited Data Use "
                   "[config: events.without_consent; default: drop].")
@click.option("--fallback-action-source", type=click.Choice(["other", "system_generated"]),
              default=None,
              help="action_source of events whose browser (user agent) is unknown "
                   "[config: events.action_source; default: other].")
@click.option("--from-state", is_flag=True,
              help="A configured shop's events from the records the last sync stored, "
                   "without asking the shop (no shop key needed).")
@click.option("-v", "--verbose", is_flag=True, help="Log every batch.")
def export_events_command(
    since_text: str | None, until_text: str | None, out_path: str | None, send: bool,
    dry_run: bool, config_path: Path | None, shop_name: str | None, url: str | None,
    platform: str, key_env: str, secret_env: str, sandbox_size: int | None, size: int | None,
    seed: int, now_text: str | None,
    pixel_id: str | None, token_env: str | None, api_version: str, graph_url: str,
    test_event_code: str | None, batch_size: int, state_url: str | None,
    newsletter_event: str | None, consent_source: str | None, consent_key: str | None,
    consent_list: Path | None, without_consent: str | None,
    fallback_action_source: str | None, from_state: bool, verbose: bool,
) -> None:
    """Turn journey touchpoints into Meta Conversions API server events (Purchase,
    InitiateCheckout, AddToCart, CompleteRegistration, Subscribe) with hashed customer
    information: written as JSON lines (--out) and/or sent to a pixel (--send)."""
    session = Session(config_path, verbose=verbose)
    click.get_current_context().call_on_close(session.close)
    session.log_to_stderr()
    sandbox = sandbox_size is not None
    if size is not None:
        click.echo("journeybridge: --size is deprecated: give the size with --sandbox N "
                   f"(--sandbox {size})", err=True)
    elif sandbox_size == 0:
        click.echo("journeybridge: --sandbox without a size is deprecated: give --sandbox N "
                   "(--sandbox 500)", err=True)
    if sandbox:
        sandbox_size = size or sandbox_size or 500
        if sandbox_size < 50:
            raise click.BadParameter(f"{sandbox_size} is not in the range 50<=x<=100000",
                                     param_hint="'--sandbox'")
    now = parse_moment(now_text, "--now")
    if sum((sandbox, url is not None, config_path is not None or shop_name is not None)) > 1:
        raise ConfigError("choose one source: --sandbox, --url, or a configured shop")
    if from_state and (sandbox or url is not None):
        raise ConfigError("--from-state reads a configured shop's stored records: not with "
                          "--sandbox or --url")
    if not out_path and not send:
        raise ConfigError("nothing to do: give --out FILE (or '-') and/or --send")
    since = parse_moment(since_text, "--since") or (
        (now or datetime.now(timezone.utc)) - timedelta(days=7))
    until = parse_moment(until_text, "--until")
    one = None if sandbox or url is not None else session.one_shop(shop_name)
    configured = one.events if one is not None else EventsConfig()
    pixel_id = pixel_id or configured.pixel_id
    token_env = token_env or configured.token_env or TOKEN_ENV
    test_event_code = test_event_code or configured.test_event_code
    newsletter_event = newsletter_event or configured.newsletter_event
    fallback_action_source = fallback_action_source or configured.action_source
    if consent_source is None:
        consent_source = configured.consent
        consent_key = consent_key or configured.consent_key
        consent_list = consent_list or configured.consent_path(session.config.path
                                                               if one is not None else None)
    without_consent = without_consent or configured.without_consent
    token = ""
    if send:
        if not pixel_id:
            raise ConfigError("--send needs --pixel-id (or JOURNEYBRIDGE_META_PIXEL_ID)")
        token = os.environ.get(token_env, "")
        if not token and not dry_run:
            raise ConfigError(f"--send needs the Conversions API access token in the "
                              f"environment variable {token_env}")
    consent = exporting.consent_policy(consent_source, meta_key=consent_key,
                                       allow_list=consent_list,
                                       without_consent=without_consent)

    configured_state: str | None = None
    if sandbox_size:
        with sources.sandbox_shop(sandbox_size, seed, now=now) as shop:
            found = sources.shop_journeys(shop.config, shop.shop, None, shop.now,
                                          secrets=shop.secrets)
    elif url is not None:
        config, one, secrets = sources.url_shop(url, platform, key_env, secret_env)
        found = sources.shop_journeys(config, one, None, secrets=secrets)
    else:
        assert one is not None
        found = sources.shop_journeys(session.config, one, session.store(),
                                      from_state=from_state)
        configured_state = session.config.state_url()
    settings = EventSettings(shop_url=found.url, shop_id=found.shop,
                             newsletter_event=newsletter_event,
                             fallback_action_source=fallback_action_source)
    out: TextIO | Path | None = (sys.stdout if out_path == "-"
                                 else Path(out_path) if out_path else None)
    graph = None
    if send and not dry_run and pixel_id:
        from journeybridge.config import Config

        graph = exporting.GraphTarget(
            pixel_id, token, state_url or configured_state or Config().state_url(),
            api_version=api_version, base_url=graph_url, test_event_code=test_event_code,
            batch_size=batch_size)
    try:
        result = exporting.run_export(found.journeys, settings, consent, since=since,
                                      until=until, out=out, graph=graph)
    except GraphAuthError as exc:
        if exc.report is not None:
            click.echo(f"  sent {exc.report.sent} events before the token was refused",
                       err=True)
        raise
    output.export_summary(result, sys.stderr)
    sys.exit(EXIT_OK if result.ok else EXIT_PARTIAL)


COMMANDS = (export_events_command,)
"""The commands of this module, registered on the ``journeybridge`` group."""
