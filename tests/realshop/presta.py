"""pytest plugin: a real PrestaShop 8.1.2 with its Webservice, seeded with a known history.

Load it with ``pytest_plugins = ["tests.realshop.presta"]``
(or ``pytest -p tests.realshop.presta``).

Fixtures
--------
``real_presta`` (session)
    Starts ``../shared/real-presta/start.sh ROOT PORT`` on a free port in a temporary directory,
    seeds it once with ``presta_seed.php``, keeps a dump of the seeded database in ROOT and stops
    the shop at the end of the session (only if this session started it). Returns a frozen
    :class:`RealPresta`.
``real_presta_expected`` (session)
    The seed's expectation, "what a correct pull must see" (a dict; do not mutate it).
``real_presta_writable`` (module)
    The same shop, for a test module that writes to it: after the module the database is put
    back exactly as the seed left it (about 2 s).

Helpers
-------
``run_presta_php(real_presta, code_or_file, *args) -> str``
    Runs PHP against the shop with its ``PS_PHP_FLAGS``, for tests that must change or read data
    behind the Webservice's back (backdating, say).
``ws_get(real_presta, path, read_only=False, **params) -> requests.Response``
    One Webservice GET (JSON unless ``output_format`` is given).
``restore_seed(real_presta)``
    Put the database back as the seed left it.

Environment
-----------
``JOURNEYBRIDGE_SHARED``               where ``shared/`` is (default: beside the repo root).
``JOURNEYBRIDGE_REAL_PRESTA_ROOT``     a persistent shop directory, reused (and its seed kept)
                                       between local runs; re-seeded when the seed script changed.
``JOURNEYBRIDGE_SKIP_REAL_SHOPS``      1 skips real-shop tests locally (ignored when CI=true).
``CI=true``                            never skip: a missing shop or a failed start is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.realshop.common import (
    free_port,
    in_ci,
    parse_env_file,
    shared_dir,
    tail,
    unavailable,
)

SEED_SCRIPT = Path(__file__).with_name("presta_seed.php")
EXPECTED_NAME = "journeybridge-seed-expected.json"
MARKER_NAME = "journeybridge-seed.marker"
SEED_DUMP_NAME = "journeybridge-seed.sql"

START_TIMEOUT_S = 900  # the first start on a machine installs Debian packages
SEED_TIMEOUT_S = 600
PHP_TIMEOUT_S = 300

#: Wall-clock seconds of this session's shop start, seed and restores (for reports).
REAL_PRESTA_TIMINGS: dict[str, float] = {}

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





def real_presta_dir() -> Path:
    return shared_dir() / "real-presta"




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



def _is_up(url: str, key: str) -> bool:
    try:
        return requests.get(f"{url}/api/customers", params={"output_format": "JSON"},
                            auth=(key, ""), timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _seed_hash() -> str:
    return hashlib.sha256(SEED_SCRIPT.read_bytes()).hexdigest()


def _marker_ok(root: Path) -> bool:
    try:
        marker = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(marker.get("seed_sha256") == _seed_hash()
                and (root / EXPECTED_NAME).is_file() and (root / SEED_DUMP_NAME).is_file())


def _script(script_dir: Path, name: str, *args: str, timeout: float, out: Path) -> int | None:
    """Run one of real-presta's scripts, output to a file (never a pipe: start.sh leaves MariaDB
    and PHP running in the background, holding whatever it was given)."""
    with out.open("ab") as fh:
        try:
            proc = subprocess.run(
                ["bash", str(script_dir / name), *args],
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                start_new_session=True,  # Ctrl-C on pytest must not kill the servers mid-write
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
    return proc.returncode


def _start(script_dir: Path, root: Path, port: int) -> RealPresta:
    """Run start.sh; on failure fail the test run with the tails of the logs."""
    root.mkdir(parents=True, exist_ok=True)
    out_path = root.parent / f"{root.name}.start-output.txt"
    rc = _script(script_dir, "start.sh", str(root), str(port), timeout=START_TIMEOUT_S,
                 out=out_path)
    if rc != 0 or not (root / "env").is_file():
        logs = root / "logs"
        pytest.fail(
            f"real PrestaShop did not start (start.sh {root} {port} -> "
            f"{'timeout' if rc is None else f'exit {rc}'}).\n"
            f"--- start.sh output ---\n{tail(out_path)}\n"
            f"--- {logs / 'install.log'} ---\n{tail(logs / 'install.log', 10)}\n"
            f"--- {logs / 'php-server.log'} ---\n{tail(logs / 'php-server.log', 10)}\n"
            f"--- {logs / 'mysqld.err'} ---\n{tail(logs / 'mysqld.err', 10)}",
            pytrace=False,
        )
    return _from_env(parse_env_file(root / "env"))


def _stop(script_dir: Path, root: Path) -> None:
    subprocess.run(
        ["bash", str(script_dir / "stop.sh"), str(root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def _mysql_args(shop: RealPresta) -> list[str]:
    return ["--no-defaults", f"--socket={shop.mysql_socket}", "-uroot", "prestashop"]


def _dump_seed(shop: RealPresta) -> None:
    """Keep the database as the seed left it, so tests that write can put it back."""
    target = shop.root / SEED_DUMP_NAME
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        subprocess.run(["mysqldump", *_mysql_args(shop)[:3], "--single-transaction",
                        "prestashop"], stdout=out, stderr=subprocess.PIPE, check=True,
                       timeout=120)
    partial.replace(target)


def _clear_shop_cache(shop: RealPresta) -> None:
    for name in ("prod", "dev"):
        shutil.rmtree(shop.shop_dir / "var" / "cache" / name, ignore_errors=True)


def restore_seed(shop: RealPresta) -> None:
    """Put the shop's database back exactly as the seed left it (about 2 s): for test modules
    that change the shop, so that other modules and later runs see the seed."""
    started = time.monotonic()
    with (shop.root / SEED_DUMP_NAME).open("rb") as source:
        subprocess.run(["mysql", *_mysql_args(shop)], stdin=source, stderr=subprocess.PIPE,
                       check=True, timeout=120)
    _clear_shop_cache(shop)
    REAL_PRESTA_TIMINGS["last_restore_seconds"] = round(time.monotonic() - started, 2)


@pytest.fixture(scope="module")
def real_presta_writable(real_presta: RealPresta) -> Iterator[RealPresta]:
    """The real shop for a test module that writes to it; restored to the seed afterwards."""
    yield real_presta
    restore_seed(real_presta)


def _seed(script_dir: Path, shop: RealPresta) -> None:
    """Fresh database (reset.sh), then the seed, its expectation, its dump and the marker."""
    (shop.root / MARKER_NAME).unlink(missing_ok=True)
    out = shop.root / "journeybridge-seed-output.txt"
    out.write_bytes(b"")
    if _script(script_dir, "reset.sh", str(shop.root), timeout=300, out=out) != 0:
        pytest.fail(f"reset.sh {shop.root} failed:\n{tail(out)}", pytrace=False)
    expected = shop.root / EXPECTED_NAME
    expected.unlink(missing_ok=True)
    started = time.monotonic()
    proc = subprocess.run(
        ["php", *shop.php_flags, str(SEED_SCRIPT), str(shop.shop_dir), str(expected)],
        cwd=shop.shop_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SEED_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0 or not expected.is_file():
        pytest.fail(
            f"seeding the real PrestaShop failed (exit {proc.returncode}).\n"
            f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}",
            pytrace=False,
        )
    _clear_shop_cache(shop)
    _dump_seed(shop)
    marker = {
        "seed_sha256": _seed_hash(),
        "seed_wall_seconds": round(time.monotonic() - started, 2),
        "summary": proc.stdout.strip(),
    }
    (shop.root / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def real_presta(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPresta]:
    """A running, seeded real PrestaShop 8.1.2 for the whole session."""
    if os.environ.get("JOURNEYBRIDGE_SKIP_REAL_SHOPS", "") in ("1", "true", "yes") and not in_ci():
        pytest.skip("real PrestaShop skipped: JOURNEYBRIDGE_SKIP_REAL_SHOPS is set")
    script_dir = real_presta_dir()
    if not (script_dir / "start.sh").is_file():
        unavailable(
            "real PrestaShop not available: ../shared/real-presta/ not found"
            f" (looked in {script_dir})"
        )

    persistent = os.environ.get("JOURNEYBRIDGE_REAL_PRESTA_ROOT", "").strip()
    if persistent:
        root = Path(persistent).expanduser().resolve()
        port = free_port()
        already_running = False
        if (root / "env").is_file():
            env = parse_env_file(root / "env")
            # start.sh on a running root only answers on the port it runs on: keep that port.
            port = int(env["PS_URL"].rsplit(":", 1)[1])
            already_running = _is_up(env["PS_URL"], env["PS_KEY"])
    else:
        scratch = tmp_path_factory.mktemp("real-presta", numbered=True)
        if len(str(scratch / "shop" / "mysql.sock")) > 100:  # unix socket paths: 107 bytes at most
            scratch = Path(tempfile.mkdtemp(prefix="jb-presta-"))
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
    REAL_PRESTA_TIMINGS["start_seconds"] = round(time.monotonic() - started, 2)
    try:
        if not _marker_ok(root):
            started = time.monotonic()
            _seed(script_dir, shop)
            REAL_PRESTA_TIMINGS["seed_seconds"] = round(time.monotonic() - started, 2)
        else:
            restore_seed(shop)  # a persistent shop an interrupted run may have left changed
        yield shop
    finally:
        if not already_running:
            _stop(script_dir, root)
        if not persistent:
            shutil.rmtree(root.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def real_presta_expected(real_presta: RealPresta) -> dict[str, Any]:
    """What a correct pull of the seeded shop must see (written by presta_seed.php)."""
    data: dict[str, Any] = json.loads(
        (real_presta.root / EXPECTED_NAME).read_text(encoding="utf-8"))
    return data


def run_presta_php(real_presta: RealPresta, code_or_file: str | Path, *args: str) -> str:
    """Run PHP against the shop and return its standard output.

    ``code_or_file`` is a ``Path`` (or a string naming an existing ``.php`` file) to run as a
    script, or PHP source. Source without an opening ``<?php`` tag gets :data:`PHP_BOOTSTRAP`
    in front (PrestaShop's ``config.inc.php`` loaded), so ``"echo _PS_VERSION_;"`` just works.
    The script runs in the shop's directory with the shop's PHP flags and ``args`` in
    ``$argv[1..]``. A non-zero exit raises ``RuntimeError`` with PHP's output.
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
            code = PHP_BOOTSTRAP + code
        fd, name = tempfile.mkstemp(prefix="jb-snippet-", suffix=".php", dir=real_presta.root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(code)
        tmp = as_file = Path(name)
    try:
        proc = subprocess.run(
            ["php", *real_presta.php_flags, str(as_file.resolve()), *args],
            cwd=real_presta.shop_dir,
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


def ws_get(real_presta: RealPresta, path: str, *, read_only: bool = False, timeout: float = 60,
           **params: Any) -> requests.Response:
    """``GET {api}{path}`` with the read/write (or read-only) key; JSON unless asked otherwise."""
    params.setdefault("output_format", "JSON")
    params = {k: v for k, v in params.items() if v is not None}
    key = real_presta.ro_key if read_only else real_presta.key
    return requests.get(real_presta.api + path, params=params, auth=(key, ""), timeout=timeout)
