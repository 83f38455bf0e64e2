"""pytest plugin: a real PrestaShop 8.1.2 with its Webservice, seeded with a known history.

Load it with ``pytest_plugins = ["tests.realshop.presta"]``
(or ``pytest -p tests.realshop.presta``). The life cycle is
:class:`tests.realshop.common.RealShop`'s; this module gives what is PrestaShop's own.

Fixtures
--------
``real_presta`` (session)
    Starts ``../shared/real-presta/start.sh ROOT PORT`` on a free port in a temporary directory,
    seeds it once with ``presta_seed.php`` (after ``reset.sh``), keeps a dump of the seeded
    database in ROOT and stops the shop at the end of the session (only if this session started
    it). Returns a frozen :class:`RealPresta`.
``real_presta_expected`` (session)
    The seed's expectation, "what a correct pull must see" (a dict; do not mutate it).
``real_presta_writable`` (module)
    The same shop, for a test module that writes to it: after the module the database is put
    back exactly as the seed left it and the shop's cache dropped (about 2 s).

Helpers
-------
``run_presta_php(real_presta, code_or_file, *args) -> str``
    Runs PHP against the shop with its ``PS_PHP_FLAGS``, for tests that must change or read data
    behind the Webservice's back (backdating, say). PHP source without ``<?php`` gets
    :data:`PHP_BOOTSTRAP` in front, so ``"echo _PS_VERSION_;"`` just works.
``ws_get(real_presta, path, read_only=False, **params) -> requests.Response``
    One Webservice GET (JSON unless ``output_format`` is given).
``restore_seed(real_presta)``, ``REAL_PRESTA_TIMINGS``
    Put the database back as the seed left it; this session's start, seed and last restore
    seconds.

A persistent shop directory named by ``JOURNEYBRIDGE_REAL_PRESTA_ROOT`` is reused (and its seed
kept) between local runs, and re-seeded (``reset.sh`` first) when the seed script changed. For
``JOURNEYBRIDGE_SHARED``, ``JOURNEYBRIDGE_SKIP_REAL_SHOPS`` and ``CI=true`` see
:mod:`tests.realshop.common`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.realshop.common import RealShop, responds

#: What a PHP snippet without its own ``<?php`` gets in front: PrestaShop loaded, CLI context.
PHP_BOOTSTRAP = (
    "<?php\n"
    "$_SERVER['HTTP_HOST'] = 'localhost'; $_SERVER['REQUEST_URI'] = '/';\n"
    "$_SERVER['REQUEST_METHOD'] = 'GET'; $_SERVER['REMOTE_ADDR'] = '127.0.0.1';\n"
    "define('_PS_ADMIN_DIR_', getcwd() . '/admin');\n"
    "require getcwd() . '/config/config.inc.php';\n"
)


@dataclass(frozen=True)
class RealPresta:
    """A running real PrestaShop (values from ``ROOT/env``)."""

    url: str  # the shop; the Webservice is url + "/api/"
    key: str  # read/write
    ro_key: str  # read (GET/HEAD)
    root: Path
    shop_dir: Path
    mysql_socket: Path
    php_flags: tuple[str, ...]

    @property
    def api(self) -> str:
        """The Webservice root, with its trailing slash."""
        return f"{self.url}/api/"

    @property
    def php_dir(self) -> Path:
        """Where PHP runs against the shop: its files."""
        return self.shop_dir

    @property
    def php(self) -> tuple[str, ...]:
        """PHP with the shop's flags."""
        return ("php", *self.php_flags)


def _from_env(env: dict[str, str]) -> RealPresta:
    return RealPresta(
        url=env["PS_URL"].rstrip("/"),
        key=env["PS_KEY"],
        ro_key=env["PS_RO_KEY"],
        root=Path(env["PS_ROOT"]),
        shop_dir=Path(env["PS_SHOP"]),
        mysql_socket=Path(env["PS_MYSQL_SOCKET"]),
        php_flags=tuple(shlex.split(env["PS_PHP_FLAGS"])),
    )


PRESTA: RealShop[RealPresta] = RealShop(
    name="real_presta",
    title="real PrestaShop",
    url_key="PS_URL",
    from_env=_from_env,
    answers=lambda shop: responds(shop.api + "customers", params={"output_format": "JSON"},
                                  auth=(shop.key, "")),
    seed_script=Path(__file__).with_name("presta_seed.php"),
    seed_args=lambda shop, out: [str(shop.shop_dir), str(out)],
    database="prestashop",
    php_prelude=PHP_BOOTSTRAP,
    start_logs=("logs/install.log", "logs/php-server.log", "logs/mysqld.err"),
    reset_script="reset.sh",
    cache_dirs=("var/cache/prod", "var/cache/dev"),
)

REAL_PRESTA_TIMINGS = PRESTA.timings
real_presta, real_presta_writable, real_presta_expected = PRESTA.fixtures()
run_presta_php = PRESTA.run_php
restore_seed = PRESTA.restore_seed


def ws_get(real_presta: RealPresta, path: str, *, read_only: bool = False, timeout: float = 60,
           **params: Any) -> requests.Response:
    """``GET {api}{path}`` with the read/write (or read-only) key; JSON unless asked otherwise."""
    params.setdefault("output_format", "JSON")
    params = {k: v for k, v in params.items() if v is not None}
    key = real_presta.ro_key if read_only else real_presta.key
    return requests.get(real_presta.api + path, params=params, auth=(key, ""), timeout=timeout)
