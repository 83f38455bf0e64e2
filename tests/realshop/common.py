"""What the real-shop fixtures share: where ../shared is, skip-or-fail, free ports, env files,
and :class:`RealShop`, the one start/seed/dump/restore/stop life cycle both real shops go through.

Environment
-----------
``JOURNEYBRIDGE_SHARED``            where ``shared/`` is (default: ``shared`` beside the repo root).
``JOURNEYBRIDGE_<NAME>_ROOT``       a persistent shop directory (``JOURNEYBRIDGE_REAL_WOO_ROOT``,
                                    ``JOURNEYBRIDGE_REAL_PRESTA_ROOT``), see :class:`RealShop`.
``JOURNEYBRIDGE_SKIP_REAL_SHOPS``   1 skips real-shop tests locally (ignored when CI=true).
``CI=true``                         never skip: a missing shop or a failed start is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    """True when running in CI (``CI=true``), where real-shop tests must never skip."""
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> None:
    """Skip locally; in CI a real shop that cannot run is a failure, never a skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: real-shop tests must not be skipped)", pytrace=False)
    pytest.skip(reason)


def shared_dir() -> Path:
    """../shared beside the repository, or where JOURNEYBRIDGE_SHARED points."""
    override = os.environ.get("JOURNEYBRIDGE_SHARED")
    return Path(override).expanduser().resolve() if override else REPO_ROOT.parent / "shared"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def parse_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; one level of surrounding double quotes is removed."""
    env: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            env[name.strip()] = value
    return env


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} not readable)"
    return "\n".join(text.splitlines()[-lines:])


def responds(url: str, **kwargs: Any) -> bool:
    """True if a GET of ``url`` (``requests`` keyword arguments allowed) answers 200 within 5 s."""
    import requests

    try:
        return requests.get(url, timeout=5, **kwargs).status_code == 200
    except requests.RequestException:
        return False


EXPECTED_NAME = "journeybridge-seed-expected.json"
MARKER_NAME = "journeybridge-seed.marker"
SEED_DUMP_NAME = "journeybridge-seed.sql"
SEED_OUTPUT_NAME = "journeybridge-seed-output.txt"

START_TIMEOUT_S = 900  # the first start on a machine installs Debian packages
RESET_TIMEOUT_S = 300
SEED_TIMEOUT_S = 600
PHP_TIMEOUT_S = 300
DB_TIMEOUT_S = 120


class Shop(Protocol):
    """What :class:`RealShop` needs of a running shop (each platform's frozen dataclass)."""

    @property
    def root(self) -> Path: ...  # the ROOT given to start.sh

    @property
    def php_dir(self) -> Path: ...  # where PHP runs against the shop

    @property
    def php(self) -> tuple[str, ...]: ...  # the PHP command with the shop's flags

    @property
    def mysql_socket(self) -> Path: ...  # root, no password


S = TypeVar("S", bound=Shop)


@dataclass(frozen=True)
class RealShop(Generic[S]):
    """One real shop's life in a test session; its fields are all that a platform gives.

    One ``name`` names it everywhere: for ``real_woo`` the fixtures are ``real_woo``,
    ``real_woo_writable`` and ``real_woo_expected``, the scripts are in ``../shared/real-woo/``
    and ``JOURNEYBRIDGE_REAL_WOO_ROOT`` names a kept ROOT. :meth:`session` starts
    ``start.sh ROOT PORT`` there (ROOT a scratch directory, or the kept one), seeds it once
    with ``seed_script``, keeps a dump of the seeded database in ROOT and stops the shop at the
    end, only if this session started it. :meth:`fixtures` makes the pytest fixtures of it.
    """

    name: str  # "real_woo": the fixtures', the ../shared directory's and the variable's name
    title: str  # "real WooCommerce": how skips and failures name the shop
    url_key: str  # ROOT/env's name for the shop's URL, whose port a kept ROOT keeps
    from_env: Callable[[dict[str, str]], S]  # the shop from ROOT/env
    answers: Callable[[S], bool]  # is this shop up and answering?
    seed_script: Path
    seed_args: Callable[[S, Path], list[str]]  # the seed script's arguments, given its output
    database: str
    php_prelude: str  # what PHP source without its own "<?php" gets in front
    start_logs: tuple[str, ...] = ()  # files under ROOT shown when start.sh fails
    seed_logs: tuple[str, ...] = ()  # files under ROOT shown when the seed fails
    # A script that puts a running ROOT's database back to just-installed, run before each seed;
    # without one, a kept ROOT that is not seeded by the current seed script is made afresh.
    reset_script: str | None = None
    cache_dirs: tuple[str, ...] = ()  # under php_dir, dropped after each seed and restore
    timings: dict[str, float] = field(default_factory=dict)  # this session's wall seconds

    @property
    def shared_name(self) -> str:
        """The directory in ../shared with start.sh, stop.sh (and the reset script)."""
        return self.name.replace("_", "-")

    @property
    def root_variable(self) -> str:
        """The environment variable that names a kept ROOT."""
        return f"JOURNEYBRIDGE_{self.name.upper()}_ROOT"

    def script_dir(self) -> Path:
        """Where the shop's scripts are."""
        return shared_dir() / self.shared_name

    def fixtures(self) -> tuple[Any, Any, Any]:
        """The pytest fixtures ``name``, ``{name}_writable`` and ``{name}_expected``.

        ``name`` (session) is :meth:`session`'s shop; ``{name}_writable`` (module) the same
        shop for a test module that writes to it, put back to the seed after the module;
        ``{name}_expected`` (session) the seed's "what a correct pull must see" (a dict; do not
        mutate it). Assign them to module attributes of a plugin so that pytest finds them.
        """
        name = self.name

        @pytest.fixture(scope="session", name=name)
        def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S]:
            """A running real shop, seeded with a known history, for the whole session."""
            yield from self.session(tmp_path_factory)

        @pytest.fixture(scope="module", name=f"{name}_writable")
        def writable(request: pytest.FixtureRequest) -> Iterator[S]:
            """The real shop for a test module that writes to it; restored to the seed after."""
            running: S = request.getfixturevalue(name)
            yield running
            self.restore_seed(running)

        @pytest.fixture(scope="session", name=f"{name}_expected")
        def expected(request: pytest.FixtureRequest) -> dict[str, Any]:
            """What a correct pull of the seeded shop must see (written by the seed script)."""
            running: S = request.getfixturevalue(name)
            data: dict[str, Any] = json.loads(
                (running.root / EXPECTED_NAME).read_text(encoding="utf-8"))
            return data

        return shop, writable, expected

    def session(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S]:
        """Yield the running, seeded shop; stop it afterwards only if this call started it.

        Skips with the reason where ``JOURNEYBRIDGE_SKIP_REAL_SHOPS`` is set or the shop is
        missing from ../shared (with ``CI=true`` a missing shop fails instead, and the variable
        is ignored). A kept ROOT keeps its port and its seed; it is put back to the seed first,
        in case an interrupted run left it changed.
        """
        if os.environ.get("JOURNEYBRIDGE_SKIP_REAL_SHOPS", "") in ("1", "true", "yes") \
                and not in_ci():
            pytest.skip(f"{self.title} skipped: JOURNEYBRIDGE_SKIP_REAL_SHOPS is set")
        script_dir = self.script_dir()
        if not (script_dir / "start.sh").is_file():
            unavailable(f"{self.title} not available: ../shared/{self.shared_name}/ not found"
                        f" (looked in {script_dir})")

        kept = os.environ.get(self.root_variable, "").strip()
        if kept:
            root = Path(kept).expanduser().resolve()
            if self.reset_script is None and not self._seeded(root) and self._is_shop(root):
                # Unseeded, half-seeded or seeded by an older seed script: start afresh.
                self._stop(root)
                shutil.rmtree(root)
        else:
            root = self._scratch_root(tmp_path_factory)
        port, already_running = free_port(), False
        if (root / "env").is_file():
            # Keep the port the shop was made with: start.sh on a running ROOT answers only on
            # its own port, and WooCommerce's OAuth signatures cover the URL.
            env = parse_env_file(root / "env")
            port = int(env[self.url_key].rsplit(":", 1)[1])
            already_running = self.answers(self.from_env(env))

        started = time.monotonic()
        try:
            shop = self._start(root, port)
        except BaseException:  # pytest.fail raises an OutcomeException: stop what did start
            if not already_running:
                self._stop(root)
            raise
        self.timings["start_seconds"] = round(time.monotonic() - started, 2)
        try:
            if self._seeded(root):
                self.restore_seed(shop)
            else:
                started = time.monotonic()
                self._seed(shop)
                self.timings["seed_seconds"] = round(time.monotonic() - started, 2)
            yield shop
        finally:
            if not already_running:
                self._stop(root)
            if not kept:
                shutil.rmtree(root.parent, ignore_errors=True)

    def restore_seed(self, shop: S) -> None:
        """Put the shop's database back exactly as the seed left it (a second or two): for test
        modules that change the shop, so that other modules and later runs see the seed."""
        started = time.monotonic()
        with (shop.root / SEED_DUMP_NAME).open("rb") as source:
            subprocess.run(["mysql", *self._mysql(shop), self.database], stdin=source,
                           stderr=subprocess.PIPE, check=True, timeout=DB_TIMEOUT_S)
        self._clear_cache(shop)
        self.timings["last_restore_seconds"] = round(time.monotonic() - started, 2)

    def run_php(self, shop: S, code_or_file: str | Path, *args: str) -> str:
        """Run PHP against the shop and return its standard output.

        ``code_or_file`` is a ``Path`` (or a string naming an existing ``.php`` file) to run as
        a script, or PHP source. Source without an opening ``<?php`` tag gets the platform's
        ``php_prelude`` (the shop loaded) put in front. The script runs in ``shop.php_dir``
        with the shop's PHP flags and ``args`` in ``$argv[1..]``. A non-zero exit raises
        ``RuntimeError`` with PHP's output.
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
                code = self.php_prelude + code
            fd, name = tempfile.mkstemp(prefix="jb-snippet-", suffix=".php", dir=shop.root)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(code)
            tmp = as_file = Path(name)
        try:
            proc = self._php(shop, str(as_file.resolve()), *args, timeout=PHP_TIMEOUT_S)
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise RuntimeError(f"PHP exited {proc.returncode}\n{_outputs(proc)}")
        return proc.stdout

    def _seeded(self, root: Path) -> bool:
        """True if ROOT holds this seed script's marker, expectation and dump."""
        try:
            marker = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return bool(marker.get("seed_sha256") == self._seed_hash()
                    and (root / EXPECTED_NAME).is_file() and (root / SEED_DUMP_NAME).is_file())

    def _seed_hash(self) -> str:
        return hashlib.sha256(self.seed_script.read_bytes()).hexdigest()

    def _is_shop(self, root: Path) -> bool:
        """True if ROOT/env describes a shop in ROOT: what makes ROOT safe to delete."""
        try:
            return self.from_env(parse_env_file(root / "env")).root.resolve() == root
        except (OSError, KeyError, ValueError):
            return False

    def _scratch_root(self, tmp_path_factory: pytest.TempPathFactory) -> Path:
        scratch = tmp_path_factory.mktemp(self.shared_name, numbered=True)
        if len(str(scratch / "shop" / "mysql.sock")) > 100:  # unix socket paths: 107 bytes at most
            scratch = Path(tempfile.mkdtemp(prefix=f"jb-{self.shared_name}-"))
        return scratch / "shop"

    def _script(self, name: str, *args: str, timeout: float, out: Path | None) -> int | None:
        """Run one of the shop's scripts; its exit code, ``None`` on a timeout. Output goes to
        a file (or nowhere), never a pipe: start.sh leaves MariaDB and PHP running in the
        background, holding whatever it was given."""
        with (out or Path(os.devnull)).open("ab") as fh:
            try:
                proc = subprocess.run(
                    ["bash", str(self.script_dir() / name), *args],
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

    def _start(self, root: Path, port: int) -> S:
        """Run start.sh; on failure fail the test run with the tails of its output and logs."""
        root.mkdir(parents=True, exist_ok=True)
        out = root.parent / f"{root.name}.start-output.txt"
        out.write_bytes(b"")
        rc = self._script("start.sh", str(root), str(port), timeout=START_TIMEOUT_S, out=out)
        if rc != 0 or not (root / "env").is_file():
            pytest.fail(
                f"{self.title} did not start (start.sh {root} {port} -> "
                f"{'timeout' if rc is None else f'exit {rc}'}).\n"
                f"--- start.sh output ---\n{tail(out)}{_log_tails(root, self.start_logs)}",
                pytrace=False,
            )
        return self.from_env(parse_env_file(root / "env"))

    def _stop(self, root: Path) -> None:
        self._script("stop.sh", str(root), timeout=DB_TIMEOUT_S, out=None)

    def _seed(self, shop: S) -> None:
        """A just-installed database (if there is a reset script), then the seed, its
        expectation, the dump of the seeded database and the marker that says all is there."""
        (shop.root / MARKER_NAME).unlink(missing_ok=True)
        if self.reset_script is not None:
            out = shop.root / SEED_OUTPUT_NAME
            out.write_bytes(b"")
            if self._script(self.reset_script, str(shop.root), timeout=RESET_TIMEOUT_S,
                            out=out) != 0:
                pytest.fail(f"{self.reset_script} {shop.root} failed:\n{tail(out)}",
                            pytrace=False)
        expected = shop.root / EXPECTED_NAME
        expected.unlink(missing_ok=True)
        started = time.monotonic()
        proc = self._php(shop, str(self.seed_script), *self.seed_args(shop, expected),
                         timeout=SEED_TIMEOUT_S)
        if proc.returncode != 0 or not expected.is_file():
            pytest.fail(
                f"seeding the {self.title} failed (exit {proc.returncode}).\n"
                f"{_outputs(proc)}{_log_tails(shop.root, self.seed_logs)}",
                pytrace=False,
            )
        self._clear_cache(shop)
        self._dump(shop)
        marker = {
            "seed_sha256": self._seed_hash(),
            "seed_wall_seconds": round(time.monotonic() - started, 2),
            "summary": proc.stdout.strip(),
        }
        (shop.root / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n",
                                             encoding="utf-8")

    def _php(self, shop: S, script: str, *args: str,
             timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*shop.php, script, *args],
            cwd=shop.php_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _mysql(self, shop: S) -> list[str]:
        return ["--no-defaults", f"--socket={shop.mysql_socket}", "-uroot"]

    def _dump(self, shop: S) -> None:
        """Keep the database as the seed left it, so that tests that write can put it back."""
        target = shop.root / SEED_DUMP_NAME
        partial = target.with_suffix(".partial")
        with partial.open("wb") as out:
            subprocess.run(["mysqldump", *self._mysql(shop), "--single-transaction",
                            self.database], stdout=out, stderr=subprocess.PIPE, check=True,
                           timeout=DB_TIMEOUT_S)
        partial.replace(target)

    def _clear_cache(self, shop: S) -> None:
        for name in self.cache_dirs:
            shutil.rmtree(shop.php_dir / name, ignore_errors=True)


def _outputs(proc: subprocess.CompletedProcess[str]) -> str:
    return f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}"


def _log_tails(root: Path, names: tuple[str, ...]) -> str:
    return "".join(f"\n--- {root / name} ---\n{tail(root / name, 10)}" for name in names)
