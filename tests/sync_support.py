"""Shared helpers for the sync, state and config tests: a sandbox shop with a configuration
file and secrets pointing at it, and the sync CLI run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from journeybridge.sandbox import Faults, Population, SandboxServer

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
# classify a day after the population's "now": every write the tests make (at the sandbox's
# clock, now + wall time) is then in the past, as it is for a real shop
CLASSIFY_AT = (NOW + timedelta(days=1)).isoformat()
PREFIX = "journeybridge_"


PG_ENV = "JOURNEYBRIDGE_TEST_POSTGRES_URL"


def postgres_url() -> str:
    """The test PostgreSQL server's URL; skips with a visible reason where there is none,
    but fails in CI (CI=true), which must run these tests (.ci/postgres.sh)."""
    import pytest

    url = os.environ.get(PG_ENV, "")
    if not url:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the PostgreSQL tests: set {PG_ENV} (.ci/postgres.sh)")
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (bash .ci/postgres.sh prints one)")
    return url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import uuid
    from urllib.parse import quote

    import psycopg

    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in url else "?"
        yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def cli_module() -> str:
    """The module ``python -m`` runs as the ``journeybridge`` command."""
    return "journeybridge.cli"


def write_config(directory: Path, url: str, *, shop: str = "sand", extra_shop: str = "",
                 extra: str = "", state: str | None = None) -> Path:
    """A configuration for one sandbox shop, its state file in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    state_line = f'state = "{state}"' if state is not None else 'state = "state.db"'
    path.write_text(f"""
[sync]
{state_line}
lock_timeout = 0

[segments]
repeat = "orders >= 2"

[shops.{shop}]
url = "{url}"
timezone = "Europe/Amsterdam"
concurrency = 4
timeout = 10
{extra_shop}
{extra}
""", encoding="utf-8")
    return path


def shop_env(server: SandboxServer, shop: str = "sand", *, read_only: bool = False
             ) -> dict[str, str]:
    """Environment variables carrying the sandbox's API keys for ``shop``."""
    creds = server.woo_credentials
    key, secret = (creds.ro_key, creds.ro_secret) if read_only else (creds.key, creds.secret)
    stem = f"JOURNEYBRIDGE_{shop.upper().replace('-', '_')}"
    return {f"{stem}_KEY": key, f"{stem}_SECRET": secret}


@dataclass
class Shop:
    """A running sandbox shop with a configuration pointing at it."""

    population: Population
    server: SandboxServer
    config: Path
    env: dict[str, str]


@contextmanager
def sandbox_shop(directory: Path, size: int = 300, seed: int = 5,
                 faults: Faults | None = None, state: str | None = None) -> Iterator[Shop]:
    """A sandbox shop of ``size`` customers served for the block, with its config file."""
    population = Population(size, seed=seed, now=NOW)
    with SandboxServer(population, faults=faults) as server:
        config = write_config(directory, server.url, state=state)
        yield Shop(population, server, config, shop_env(server))


def invoke(args: list[str], env: Mapping[str, str]) -> Any:
    """Run one sync command in this process through click's CliRunner (no terminal), with
    ``env`` in the environment; returns click's Result (``exit_code``, ``stdout``,
    ``stderr``)."""
    from click.testing import CliRunner

    from journeybridge.cli import main

    command = main.commands[args[0]]
    clean = {k: None for k in os.environ if k.startswith("JOURNEYBRIDGE_")}
    return CliRunner().invoke(command, args[1:], env={**clean, **env})


def run_cli(args: list[str], env: Mapping[str, str], timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a subprocess (no terminal) and wait for it."""
    return subprocess.run([sys.executable, "-m", cli_module(), *args], capture_output=True,
                          text=True, timeout=timeout, env=child_env(env), cwd=ROOT)


def start_cli(args: list[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start the CLI as a subprocess (no terminal) without waiting."""
    return subprocess.Popen([sys.executable, "-m", cli_module(), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(env), cwd=ROOT)


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """The test process's environment plus ``env``, with this checkout importable."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYBRIDGE_")}
    path = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
    return {**base, "PYTHONPATH": path, **env}


def summary(stdout: str) -> dict[str, Any]:
    """The one summary JSON line a non-terminal run prints last."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "no output on stdout"
    data = json.loads(lines[-1])
    assert data["event"] == "summary"
    return data  # type: ignore[no-any-return]


def shop_meta(population: Population) -> dict[str, dict[str, str]]:
    """journeybridge's meta in the shop: per customer id, and per (guest) order id."""
    found: dict[str, dict[str, str]] = {}
    for customer in population.customers():
        meta = {m.key: str(m.value) for m in customer.meta_data if m.key.startswith(PREFIX)}
        if meta:
            found[f"customer:{customer.id}"] = meta
    for order in population.orders(include_trash=False):
        meta = {m.key: str(m.value) for m in order.meta_data if m.key.startswith(PREFIX)}
        if meta:
            found[f"order:{order.id}"] = meta
    return found
