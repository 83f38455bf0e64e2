"""pytest plugin: a real WordPress 6.8.3 + WooCommerce 10.0.2 shop, seeded with a known history.

Load it with ``pytest_plugins = ["tests.realshop.woo"]`` (or ``pytest -p tests.realshop.woo``).
The life cycle is :class:`tests.realshop.common.RealShop`'s; this module gives what is
WooCommerce's own.

Fixtures
--------
``real_woo`` (session)
    Starts ``../shared/real-woo/start.sh ROOT PORT`` on a free port, seeds it once with
    ``woo_seed.php``, keeps a dump of the seeded database in ROOT and stops it at the end of the
    session (only if this session started it). Returns a frozen :class:`RealWoo`.
``real_woo_expected`` (session)
    The seed's expectation, "what a correct pull must see" (a dict; do not mutate it).
``real_woo_writable`` (module)
    The same shop, for a test module that writes to it: after the module the database is put
    back exactly as the seed left it (about a second).

Helpers
-------
``run_php(real_woo, code_or_file, *args) -> str``
    Runs PHP against the shop from its WordPress directory, for tests that must change or read
    data behind the REST API's back. PHP source without ``<?php`` gets
    ``require 'wp-load.php';`` in front, so ``"echo WC()->version;"`` just works.
``woo_api(real_woo, read_only=False)``
    A ``woocommerce.API`` client for the shop (OAuth 1.0a over plain HTTP).

``restore_seed(real_woo)`` puts the database back as the seed left it; ``REAL_WOO_TIMINGS``
holds this session's start, seed and last restore seconds. ``JOURNEYBRIDGE_REAL_WOO_ROOT``
names a persistent shop directory, reused (and its seed kept) between local runs; it is made
afresh when the seed script changed. The other variables (``JOURNEYBRIDGE_SHARED``,
``JOURNEYBRIDGE_SKIP_REAL_SHOPS``, ``CI=true``) are described in :mod:`tests.realshop.common`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.realshop.common import RealShop, responds


@dataclass(frozen=True)
class RealWoo:
    """A running real WooCommerce shop (values from ``ROOT/env``)."""

    url: str
    key: str  # read_write
    secret: str
    ro_key: str  # read
    ro_secret: str
    root: Path
    php_dir: Path

    @property
    def php(self) -> tuple[str, ...]:
        """PHP with room for WooCommerce's bulk work."""
        return ("php", "-d", "memory_limit=1G")

    @property
    def mysql_socket(self) -> Path:
        """The shop's MariaDB socket (database ``wp``)."""
        return self.root / "mysql.sock"


def _from_env(env: dict[str, str]) -> RealWoo:
    return RealWoo(
        url=env["WOO_URL"],
        key=env["WOO_KEY"],
        secret=env["WOO_SECRET"],
        ro_key=env["WOO_RO_KEY"],
        ro_secret=env["WOO_RO_SECRET"],
        root=Path(env["WOO_ROOT"]),
        php_dir=Path(env["WOO_PHP"]),
    )


WOO: RealShop[RealWoo] = RealShop(
    name="real_woo",
    title="real WooCommerce",
    url_key="WOO_URL",
    from_env=_from_env,
    answers=lambda shop: responds(f"{shop.url}/wp-json/"),
    seed_script=Path(__file__).with_name("woo_seed.php"),
    seed_args=lambda shop, out: [str(out)],
    database="wp",
    php_prelude="<?php\nrequire 'wp-load.php';\n",
    start_logs=("start.log",),
    seed_logs=("debug.log",),
)

REAL_WOO_TIMINGS = WOO.timings
real_woo, real_woo_writable, real_woo_expected = WOO.fixtures()
run_php = WOO.run_php
restore_seed = WOO.restore_seed


def woo_api(real_woo: RealWoo, *, read_only: bool = False, timeout: int = 30) -> Any:
    """A ``woocommerce.API`` for the shop; with ``read_only`` it uses the read key."""
    from woocommerce import API

    return API(
        url=real_woo.url,
        consumer_key=real_woo.ro_key if read_only else real_woo.key,
        consumer_secret=real_woo.ro_secret if read_only else real_woo.secret,
        version="wc/v3",
        timeout=timeout,
    )
