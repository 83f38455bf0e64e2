"""pytest plugin: a real WordPress 6.8.3 + WooCommerce 10.0.2 shop, seeded with a known history.

Load it with ``pytest_plugins = ["tests.realshop.woo"]`` (or ``pytest -p tests.realshop.woo``).

Fixtures
--------
``real_woo`` (session)
    Starts ``../shared/real-woo/start.sh ROOT PORT`` on a free port, seeds it once with
    ``woo_seed.php`` and stops it at the end of the session (only if this session started it).
    Returns a frozen :class:`RealWoo`.
``real_woo_expected`` (session)
    The seed's expectation, "what a correct pull must see" (a dict; do not mutate it).

Helpers
-------
``run_php(real_woo, code_or_file, *args) -> str``
    Runs PHP against the shop from its WordPress directory, for tests that must change or read
    data behind the REST API's back.
``woo_api(real_woo, read_only=False)``
    A ``woocommerce.API`` client for the shop (OAuth 1.0a over plain HTTP).

Environment
-----------
``JOURNEYBRIDGE_SHARED``          where ``shared/`` is (default: ``shared`` beside the repo root).
``JOURNEYBRIDGE_REAL_WOO_ROOT``   a persistent shop directory, reused (and its seed kept) between
                                  local runs; it is re-created when the seed script changed.
``JOURNEYBRIDGE_SKIP_REAL_SHOPS`` set to 1 to skip real-shop tests locally (ignored when CI=true).
``CI=true``                       never skip: a missing shop or a failed start is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.realshop.common import (
    free_port,
    in_ci,
    parse_env_file,
    shared_dir,
    tail,
    unavailable,
)

SEED_SCRIPT = Path(__file__).with_name("woo_seed.php")
EXPECTED_NAME = "journeybridge-seed-expected.json"
MARKER_NAME = "journeybridge-seed.marker"

START_TIMEOUT_S = 900  # the first start on a machine installs Debian packages
SEED_TIMEOUT_S = 600
PHP_TIMEOUT_S = 300

#: Wall-clock seconds of this session's shop start and seed (for reports; empty until used).
REAL_WOO_TIMINGS: dict[str, float] = {}


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





def real_woo_dir() -> Path:
    return shared_dir() / "real-woo"




def _real_woo_from_env(env: dict[str, str]) -> RealWoo:
    return RealWoo(
        url=env["WOO_URL"],
        key=env["WOO_KEY"],
        secret=env["WOO_SECRET"],
        ro_key=env["WOO_RO_KEY"],
        ro_secret=env["WOO_RO_SECRET"],
        root=Path(env["WOO_ROOT"]),
        php_dir=Path(env["WOO_PHP"]),
    )



def _is_up(url: str) -> bool:
    try:
        import requests

        return requests.get(f"{url}/wp-json/", timeout=3).status_code == 200
    except Exception:
        return False


def _seed_hash() -> str:
    return hashlib.sha256(SEED_SCRIPT.read_bytes()).hexdigest()


def _marker_ok(root: Path) -> bool:
    try:
        marker = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(marker.get("seed_sha256") == _seed_hash() and (root / EXPECTED_NAME).is_file())


def _looks_like_shop_root(root: Path) -> bool:
    return (root / "env").is_file() and (root / "wp" / "wp-load.php").is_file()


def _start(script_dir: Path, root: Path, port: int) -> RealWoo:
    """Run start.sh; on failure fail the test run with the tails of the logs."""
    root.mkdir(parents=True, exist_ok=True)
    out_path = root.parent / f"{root.name}.start-output.txt"
    # Output to a file, not a pipe: start.sh leaves MariaDB and PHP running in the background.
    with out_path.open("wb") as out:
        try:
            proc = subprocess.run(
                ["bash", str(script_dir / "start.sh"), str(root), str(port)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT_S,
                start_new_session=True,  # Ctrl-C on pytest must not kill the servers mid-write
                check=False,
            )
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            rc = None
    if rc != 0 or not (root / "env").is_file():
        pytest.fail(
            f"real WooCommerce did not start (start.sh {root} {port} -> "
            f"{'timeout' if rc is None else f'exit {rc}'}).\n"
            f"--- start.sh output ---\n{tail(out_path)}\n"
            f"--- {root / 'start.log'} ---\n{tail(root / 'start.log')}",
            pytrace=False,
        )
    return _real_woo_from_env(parse_env_file(root / "env"))


def _stop(script_dir: Path, root: Path) -> None:
    subprocess.run(
        ["bash", str(script_dir / "stop.sh"), str(root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


SEED_DUMP_NAME = "journeybridge-seed.sql"


def _mysql_args(shop: RealWoo) -> list[str]:
    return [f"--socket={shop.root / 'mysql.sock'}", "-uroot", "wp"]


def _dump_seed(shop: RealWoo) -> None:
    """Keep the database as the seed left it, so tests that write can put it back."""
    with (shop.root / SEED_DUMP_NAME).open("wb") as out:
        subprocess.run(["mysqldump", "--single-transaction", *_mysql_args(shop)], stdout=out,
                       stderr=subprocess.PIPE, check=True, timeout=120)


def restore_seed(shop: RealWoo) -> None:
    """Put the shop's database back exactly as the seed left it (about a second): for test
    modules that change the shop, so that other modules and later runs see the seed."""
    dump = shop.root / SEED_DUMP_NAME
    if not dump.is_file():
        _dump_seed(shop)  # a persistent root seeded before dumps existed: dump it now
        return
    with dump.open("rb") as source:
        subprocess.run(["mysql", *_mysql_args(shop)], stdin=source, stderr=subprocess.PIPE,
                       check=True, timeout=120)


@pytest.fixture(scope="module")
def real_woo_writable(real_woo: RealWoo) -> Iterator[RealWoo]:
    """The real shop for a test module that writes to it; restored to the seed afterwards."""
    yield real_woo
    restore_seed(real_woo)


def _seed(shop: RealWoo) -> None:
    expected = shop.root / EXPECTED_NAME
    started = time.monotonic()
    proc = subprocess.run(
        ["php", "-d", "memory_limit=1G", str(SEED_SCRIPT), str(expected)],
        cwd=shop.php_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SEED_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0 or not expected.is_file():
        pytest.fail(
            f"seeding the real WooCommerce failed (exit {proc.returncode}).\n"
            f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}\n"
            f"--- {shop.root / 'debug.log'} ---\n{tail(shop.root / 'debug.log', 10)}",
            pytrace=False,
        )
    _dump_seed(shop)
    marker = {
        "seed_sha256": _seed_hash(),
        "seed_wall_seconds": round(time.monotonic() - started, 2),
        "summary": proc.stdout.strip(),
    }
    (shop.root / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def real_woo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealWoo]:
    """A running, seeded real WooCommerce 10.0.2 for the whole session."""
    if os.environ.get("JOURNEYBRIDGE_SKIP_REAL_SHOPS", "") in ("1", "true", "yes") and not in_ci():
        pytest.skip("real WooCommerce skipped: JOURNEYBRIDGE_SKIP_REAL_SHOPS is set")
    script_dir = real_woo_dir()
    if not (script_dir / "start.sh").is_file():
        unavailable(
            "real WooCommerce not available: ../shared/real-woo/ not found"
            f" (looked in {script_dir})"
        )

    persistent = os.environ.get("JOURNEYBRIDGE_REAL_WOO_ROOT", "").strip()
    if persistent:
        root = Path(persistent).expanduser().resolve()
        if root.exists() and not _marker_ok(root) and _looks_like_shop_root(root):
            # Unseeded, half-seeded or seeded by an older seed script: start afresh.
            _stop(script_dir, root)
            shutil.rmtree(root)
        port = free_port()
        if (root / "env").is_file():
            # The API keys' OAuth signatures cover the URL: keep the port the shop was made with.
            port = int(parse_env_file(root / "env")["WOO_URL"].rsplit(":", 1)[1])
            already_running = _is_up(f"http://127.0.0.1:{port}")
        else:
            already_running = False
    else:
        scratch = tmp_path_factory.mktemp("real-woo", numbered=True)
        if len(str(scratch / "shop" / "mysql.sock")) > 100:  # unix socket paths: 107 bytes at most
            scratch = Path(tempfile.mkdtemp(prefix="jb-woo-"))
        root = scratch / "shop"
        port = free_port()
        already_running = False

    started = time.monotonic()
    try:
        shop = _start(script_dir, root, port)
    except BaseException:  # pytest.fail raises an OutcomeException: stop what did start
        if not already_running:
            _stop(script_dir, root)
        raise
    REAL_WOO_TIMINGS["start_seconds"] = round(time.monotonic() - started, 2)
    try:
        if not _marker_ok(root):
            started = time.monotonic()
            _seed(shop)
            REAL_WOO_TIMINGS["seed_seconds"] = round(time.monotonic() - started, 2)
        yield shop
    finally:
        if not already_running:
            _stop(script_dir, root)
        if not persistent:
            shutil.rmtree(root.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def real_woo_expected(real_woo: RealWoo) -> dict[str, Any]:
    """What a correct pull of the seeded shop must see (written by woo_seed.php)."""
    data: dict[str, Any] = json.loads((real_woo.root / EXPECTED_NAME).read_text(encoding="utf-8"))
    return data


def run_php(real_woo: RealWoo, code_or_file: str | Path, *args: str) -> str:
    """Run PHP against the shop and return its standard output.

    ``code_or_file`` is a ``Path`` (or a string naming an existing ``.php`` file) to run as a
    script, or PHP source. Source without an opening ``<?php`` tag gets
    ``<?php require 'wp-load.php';`` put in front, so ``"echo WC()->version;"`` just works.
    The script runs in ``real_woo.php_dir`` with ``args`` in ``$argv[1..]``. A non-zero exit
    raises ``RuntimeError`` with PHP's stderr.
    """
    as_file: Path | None = None
    if isinstance(code_or_file, Path):
        as_file = code_or_file
    elif code_or_file.endswith(".php") and "\n" not in code_or_file:
        candidate = Path(code_or_file)
        as_file = candidate if candidate.is_file() else None
    tmp: Path | None = None
    if as_file is None:
        code = str(code_or_file)
        if not code.lstrip().startswith("<?php"):
            code = "<?php\nrequire 'wp-load.php';\n" + code
        fd, name = tempfile.mkstemp(prefix="jb-snippet-", suffix=".php", dir=real_woo.root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(code)
        tmp = as_file = Path(name)
    try:
        proc = subprocess.run(
            ["php", "-d", "memory_limit=1G", str(as_file.resolve()), *args],
            cwd=real_woo.php_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PHP_TIMEOUT_S,
            check=False,
        )
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"PHP exited {proc.returncode}\n"
            f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}"
        )
    return proc.stdout


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
