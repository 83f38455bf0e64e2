"""Where a shop's journeys come from, in one place: every command that looks at people
(``journeys``, ``explain``, ``backtest``, ``export-events``, ``demo``) asks
:func:`shop_journeys`.

* A configured shop with a state store: rebuilt from the store when it holds the shop's
  records, else from a full pull that is not stored (:func:`journeybridge.sync.current_journeys`).
* A shop without a store (``export-events --url``, the sandbox): a full pull, not stored.
* The sandbox: :func:`sandbox_shop` serves a generated shop on 127.0.0.1 and gives it as a
  configured shop, so it is read exactly like a real one.

Each answer carries the journeys, their classifications as of ``now`` (the shop's rhythm
measured from all of them), the stage settings used, and where they came from.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from journeybridge.config import Config, Secrets, ShopConfig, load_secrets
from journeybridge.errors import ConfigError, PersonNotFound
from journeybridge.model import Journey, normalize_email
from journeybridge.redact import excerpt, redact
from journeybridge.stages import Classification, StageSettings, classify_all
from journeybridge.state import StateStore

if TYPE_CHECKING:
    from journeybridge.sandbox import Population, SandboxServer

__all__ = ["SANDBOX_PLATFORMS", "Sandbox", "ShopJourneys", "sandbox_shop", "shop_journeys",
           "url_shop"]


@dataclass(frozen=True)
class ShopJourneys:
    """One shop's people: journeys and their classifications (same order) as of ``now``.

    ``shop`` names the shop (its configured name, or the adapter's name for an unnamed
    one), ``url`` its address, ``source`` is ``"state"`` (rebuilt from the store) or
    ``"pull"`` (read from the shop now); ``report`` is the pull's report when there was one
    (counts, skipped records, requests)."""

    shop: str
    url: str
    journeys: list[Journey]
    results: list[Classification]
    now: datetime
    settings: StageSettings
    source: str
    report: Any = None

    def find(self, person: str) -> int:
        """The index of the person with key ``person`` (``customer:42``, ``guest:<e-mail>``)
        or e-mail address ``person``. Raises PersonNotFound."""
        wanted = person.strip()
        email = normalize_email(wanted)
        for i, journey in enumerate(self.journeys):
            if journey.key == wanted or (email is not None and journey.person.email == email):
                return i
        hint = ""
        if wanted.isdigit():
            hint = f" (a customer is named customer:{wanted}; a guest guest:<e-mail>)"
        elif ":" not in wanted and "@" not in wanted:
            hint = " (name a person as customer:42, guest:<e-mail> or by e-mail address)"
        raise PersonNotFound(f"no person {wanted!r} in this shop{hint}")


def shop_journeys(config: Config, shop: ShopConfig, store: StateStore | None,
                  now: datetime | None = None, *, secrets: Secrets | None = None,
                  from_state: bool = False) -> ShopJourneys:
    """Every journey of ``shop`` with its classification as of ``now`` (default: the current
    time), with ``config``'s stage settings and segments: from ``store`` when it holds the
    shop's records, else (no store, or nothing stored yet) from a full pull that is not
    stored. ``secrets`` default to :func:`~journeybridge.config.load_secrets`.
    ``from_state``: from the store only, never the shop (no secrets needed); ConfigError
    when the store holds nothing of the shop.

    Raises the typed errors of the store and of the shop (ConfigError for missing secrets)."""
    moment = now or datetime.now(timezone.utc)
    settings = config.stages.settings
    if store is not None:
        from journeybridge.sync import current_journeys

        def secrets_for(cfg: Config, one: ShopConfig) -> Secrets:
            if from_state:
                raise ConfigError(f"shops.{one.name}: the state store holds no records of "
                                  "this shop: run journeybridge sync first (or leave out "
                                  "--from-state to read the shop itself)")
            return secrets if secrets is not None else load_secrets(cfg, one)

        journeys, results, source = current_journeys(config, shop, store, moment,
                                                      secrets_for=secrets_for)
        return ShopJourneys(shop.name, shop.url, journeys, results, moment, settings, source)
    if from_state:
        raise ConfigError(f"shops.{shop.name}: --from-state needs a state store")
    from journeybridge.adapters.protocol import collect
    from journeybridge.sync import open_shop_adapter

    with open_shop_adapter(config, shop, secrets if secrets is not None
                           else load_secrets(config, shop)) as adapter:
        pull = collect(adapter.pull())
        name = adapter.shop or shop.name
        journeys = pull.assemble(name, adapter.platform).journeys
    results = classify_all(journeys, now=moment, settings=settings, segments=config.segments)
    return ShopJourneys(name, shop.url, journeys, results, moment, settings, "pull",
                        report=pull.report)


def url_shop(url: str, platform: str, key_env: str, secret_env: str,
             environ: Mapping[str, str] | None = None) -> tuple[Config, ShopConfig, Secrets]:
    """A shop known only by its address and platform (no configuration file), its secrets in
    the environment variables ``key_env`` and ``secret_env`` (PrestaShop: the key alone), as
    the configuration, shop and secrets :func:`shop_journeys` reads. Raises ConfigError
    naming what is missing or wrong, never a value."""
    try:
        shop = ShopConfig(url=url, platform=platform,
                          key_env=key_env, secret_env=secret_env)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: "
                             f"{str(e['msg']).removeprefix('Value error, ')}"
                             for e in exc.errors())
        raise ConfigError(f"--url {excerpt(redact(url), 80)}: {problems}") from None
    config = Config()
    try:
        secrets = load_secrets(config, shop, environ)
    except ConfigError:
        names = shop.required_env
        what = "key and secret" if len(names) > 1 else "key"
        raise ConfigError(f"--url needs the shop's API {what} in the environment: set "
                          f"{' and '.join(names)}") from None
    return config, shop, secrets


@dataclass(frozen=True)
class Sandbox:
    """A generated shop being served on 127.0.0.1, as configured shops: ``config`` and
    ``shop`` to read it with (the first platform served), ``secrets`` its read/write keys,
    ``shops`` every platform served (platform -> its shop and secrets), ``now`` the moment the
    shop was generated for, ``server`` and ``population`` for what else a caller wants of it."""

    config: Config
    shop: ShopConfig
    secrets: Secrets
    now: datetime
    server: SandboxServer
    population: Population
    shops: dict[str, tuple[ShopConfig, Secrets]]


SANDBOX_PLATFORMS = ("woocommerce", "prestashop")
"""The APIs a sandbox can serve (both by default in ``journeybridge sandbox``)."""


@contextmanager
def sandbox_shop(size: int = 2000, seed: int = 1, *, now: datetime | None = None,
                 port: int = 0, concurrency: int = 4,
                 platforms: tuple[str, ...] = ("woocommerce",)) -> Iterator[Sandbox]:
    """Serve a generated shop of ``size`` customers (``seed``; generated as of ``now``,
    default the current minute) on 127.0.0.1:``port`` (0: a free port) for the block, through
    the APIs of ``platforms`` (WooCommerce REST under /wp-json/, PrestaShop Webservice under
    /api/). Raises ConfigError when the port cannot be bound (taken, or not allowed)."""
    from journeybridge.sandbox import Population, SandboxServer

    population = Population(size, seed=seed, now=now)
    server = SandboxServer(population, port=port, platforms=platforms)
    try:
        server.start()
    except OSError as exc:
        reason = ("is already in use" if exc.errno == errno.EADDRINUSE
                  else f"cannot be used ({exc.strerror or exc})")
        raise ConfigError(f"port {port} on 127.0.0.1 {reason}: choose another port, or 0 for "
                          "a free one") from None
    try:
        shops: dict[str, tuple[ShopConfig, Secrets]] = {}
        for endpoint in server.endpoints():
            shops[endpoint.platform] = (
                ShopConfig(name="sandbox", platform=endpoint.platform,
                           url=server.url, concurrency=concurrency),
                Secrets(endpoint.key, endpoint.secret))
        shop, secrets = shops[platforms[0]]
        yield Sandbox(config=Config(), shop=shop, secrets=secrets, now=population.now,
                      server=server, population=population, shops=shops)
    finally:
        server.stop()
