"""The cron-facing commands: ``init``, ``check``, ``sync``, ``journeys`` and ``status``.

A thin layer over :mod:`journeybridge.sync`, :mod:`journeybridge.checks` and the state store.
Registered on the main group by :mod:`journeybridge.cli` (``COMMANDS``).

Output: on a terminal (``stderr`` is a TTY) a progress line while pulling and writing, and a
summary table on stdout. Without one (cron, a pipe) JSON-lines logs on stderr, no progress,
and exactly one summary JSON line at the end on stdout.

Exit codes (the same values as :mod:`journeybridge.cli`, plus one)::

    0   success
    1   partial: some records or writes failed (each reported)
    2   configuration error (file, key and expectation named)
    3   a shop or the state store unreachable, or credentials refused
    75  EX_TEMPFAIL: another run is syncing this shop right now; try again later

With several shops, the run's code is the most serious one: 2, then 3, then 1, then 75.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from journeybridge.cli_common import (
    EXIT_CONFIG,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNREACHABLE,
    parse_moment,
)
from journeybridge.config import Config, default_config_path, example_config, load_config
from journeybridge.errors import (
    AuthenticationError,
    ConfigError,
    JourneybridgeError,
    PermissionDenied,
    ShopUnreachable,
)
from journeybridge.state import ShopBusy, StateStore, StateStoreError, open_store

__all__ = ["COMMANDS", "EXIT_LOCKED", "check", "exit_code_for", "init", "journeys", "status",
           "sync"]

F = TypeVar("F", bound=Callable[..., Any])

"""Another run holds the shop's lock (``EX_TEMPFAIL`` from sysexits.h: try again later)."""

_SEVERITY = (EXIT_CONFIG, EXIT_UNREACHABLE, EXIT_PARTIAL, EXIT_LOCKED, EXIT_OK)


def exit_code_for(error: BaseException | None, partial: bool = False) -> int:
    """The exit code of one outcome: its error's kind, else partial (1) or success (0)."""
    if isinstance(error, ShopBusy):
        return EXIT_LOCKED
    if isinstance(error, ConfigError):
        return EXIT_CONFIG
    if isinstance(error, (ShopUnreachable, AuthenticationError, PermissionDenied,
                          StateStoreError)):
        return EXIT_UNREACHABLE
    if error is not None:
        return EXIT_PARTIAL
    return EXIT_PARTIAL if partial else EXIT_OK


def _worst(codes: Iterable[int]) -> int:
    found = set(codes)
    return next((code for code in _SEVERITY if code in found), EXIT_OK)


def _terminal() -> bool:
    return sys.stderr.isatty()


def _summary_line(data: dict[str, Any]) -> None:
    click.echo(json.dumps({"event": "summary", **data}, ensure_ascii=False, default=str))


def _exit_on_errors(func: F) -> F:
    """Turn typed errors raised outside a shop's run into one line and an exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except JourneybridgeError as exc:
            from journeybridge.logs import scrub

            code = exit_code_for(exc)
            kind = "configuration error: " if code == EXIT_CONFIG else ""
            click.echo(scrub(f"journeybridge: {kind}{exc}"), err=True)
            if not _terminal() and func.__name__ == "sync":
                _summary_line({"exit_code": code, "error": scrub(str(exc)), "shops": []})
            sys.exit(code)

    return wrapper  # type: ignore[return-value]


def _setup(config_path: Path | None, verbose: bool = False) -> Config:
    from journeybridge.logs import configure_logging

    configure_logging(_terminal(), verbose=verbose)
    return load_config(config_path)


def _store(config: Config) -> StateStore:
    return open_store(config.state_url())



def _mask_key(key: str) -> str:
    if key.startswith("guest:"):
        from journeybridge.logs import scrub

        return scrub(key)
    return key


config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
    default=None, help="Configuration file [default: $JOURNEYBRIDGE_CONFIG or "
                       "~/.config/journeybridge/config.toml].")
shop_option = click.option("--shop", "shop_name", default=None, metavar="NAME",
                           help="Only this shop (default: every configured shop in turn).")
now_option = click.option("--now", "now_text", default=None, metavar="ISO-TIME",
                          help="Classify as of this moment instead of the current time "
                               "(reproducible runs).")


class _StatusLine:
    """A one-line progress display on stderr for a terminal: a bar when the total is known,
    a live counter (requests sent) and the elapsed time otherwise."""

    def __init__(self) -> None:
        self._label = ""
        self._total: int | None = None
        self._done = 0
        self._poll: Callable[[], int] | None = None
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, label: str, total: int | None = None,
              poll: Callable[[], int] | None = None) -> None:
        """Begin a phase and draw it (redrawn twice a second)."""
        self.finish()
        with self._lock:
            self._label, self._total, self._done, self._poll = label, total, 0, poll
            self._started = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._tick, daemon=True,
                                        name="journeybridge-progress")
        self._thread.start()

    def advance(self, steps: int) -> None:
        """Count ``steps`` more done and redraw."""
        with self._lock:
            self._done += steps
        self._draw()

    def finish(self) -> None:
        """End the phase, leaving its final state on its own line."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self._draw()
        click.echo("", err=True)

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            elapsed = time.monotonic() - self._started
            if self._total:
                width = 30
                filled = int(width * min(self._done, self._total) / self._total)
                text = (f"{self._label} [{'#' * filled}{'.' * (width - filled)}] "
                        f"{self._done}/{self._total}")
            else:
                count = self._poll() if self._poll is not None else self._done
                text = f"{self._label}: {count} requests"
            text += f"  {elapsed:.0f}s"
        click.echo(f"\r\x1b[2K{text}", err=True, nl=False)


# -- init -----------------------------------------------------------------------------------

@click.command()
@click.argument("path", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@_exit_on_errors
def init(path: Path | None, force: bool) -> None:
    """Write a commented example configuration to PATH (default: the user's configuration
    file). Secrets are never written there: see its last lines."""
    target = path or default_config_path()
    if target.exists() and not force:
        raise ConfigError(f"{target}: already exists; use --force to overwrite it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(example_config(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write: {exc.strerror}") from None
    click.echo(f"Wrote an example configuration to {target}.")
    click.echo("Next: edit its [shops.myshop] table, export JOURNEYBRIDGE_MYSHOP_KEY and "
               "JOURNEYBRIDGE_MYSHOP_SECRET, then run: journeybridge check")


# -- check ----------------------------------------------------------------------------------

@click.command()
@shop_option
@config_option
@_exit_on_errors
def check(shop_name: str | None, config_path: Path | None) -> None:
    """Test each shop's connection, credentials and read/write permission, and the state
    store; say exactly what is wrong."""
    from journeybridge.checks import check_shop, check_store

    config = _setup(config_path)
    codes: list[int] = []
    for shop in config.select(shop_name):
        click.echo(f"{shop.name} ({shop.url})")
        for step in check_shop(config, shop):
            mark = "ok" if step.ok else "FAILED"
            click.echo(f"  {step.name:<12} {mark}: {step.detail}")
            codes.append(EXIT_OK if step.ok else exit_code_for(step.error, partial=True))
    step = check_store(lambda: _store(config))
    click.echo(f"{step.name}: {'ok' if step.ok else 'FAILED'}: {step.detail}")
    codes.append(EXIT_OK if step.ok else exit_code_for(step.error, partial=True))
    sys.exit(_worst(codes))


# -- sync -----------------------------------------------------------------------------------

def _shop_summary(outcome: Any, seconds: float) -> dict[str, Any]:
    from journeybridge.logs import scrub

    run = outcome.run
    return {
        "shop": outcome.shop, "status": outcome.status, "mode": run.mode,
        "dry_run": outcome.dry_run, "exit_code": exit_code_for(
            outcome.error, partial=bool(outcome.failures)),
        "customers": run.customers, "orders": run.orders, "reviews": run.reviews,
        "trashed": run.trashed, "skipped": run.skipped, "people": run.people,
        "changed": run.changed, "moves": len(outcome.moves), "planned": run.planned,
        "written": run.written, "failed": run.failed, "unwritable": run.unwritable,
        "requests": run.requests, "seconds": round(seconds, 3), "stages": outcome.stage_counts,
        "error": scrub(str(outcome.error)) if outcome.error else None,
    }


def _print_moves(outcome: Any, terminal: bool, limit: int = 200) -> None:
    from journeybridge.logs import scrub

    if not terminal:
        for move in outcome.moves:
            click.echo(json.dumps({"event": "move", "shop": outcome.shop,
                                   "person": move.person_key, "from": move.from_stage,
                                   "to": move.to_stage, "since": move.since,
                                   "reason": move.reason}, ensure_ascii=False))
        return
    click.echo(f"{outcome.shop}: {len(outcome.moves)} people would change stage "
               f"({outcome.run.planned} meta writes):")
    for move in outcome.moves[:limit]:
        click.echo(f"  {_mask_key(move.person_key):<32} {move.from_stage or '(new)':>13} -> "
                   f"{move.to_stage:<13} since {move.since}: {scrub(move.reason)}")
    if len(outcome.moves) > limit:
        click.echo(f"  ... and {len(outcome.moves) - limit} more")


def _print_table(rows: list[dict[str, Any]]) -> None:
    headers = ("shop", "status", "mode", "people", "changed", "planned", "written", "failed",
               "seconds")
    table = [[str(row.get(h, "")) for h in headers] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    click.echo("  ".join("-" * w for w in widths))
    for r in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths)))
    for row in rows:
        if row["stages"]:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(row["stages"].items()))
            click.echo(f"{row['shop']} stages: {counts}")
        if row["error"]:
            click.echo(f"{row['shop']}: {row['error']}")


@click.command()
@shop_option
@click.option("--dry-run", is_flag=True,
              help="Show who would move from which stage to which, and why; write nothing "
                   "to the shop, advance no cursor.")
@click.option("--full", is_flag=True, help="Pull everything, not only what changed.")
@config_option
@now_option
@click.option("-v", "--verbose", is_flag=True, help="Log progress lines on a terminal too.")
@_exit_on_errors
def sync(shop_name: str | None, dry_run: bool, full: bool, config_path: Path | None,
         now_text: str | None, verbose: bool) -> None:
    """Pull (incrementally after the first run), classify everyone, write back only the
    stages that changed, and record the run. For cron: exits 75 at once if another run is
    syncing the same shop."""
    from journeybridge import sync as engine

    config = _setup(config_path, verbose)
    now = parse_moment(now_text, "--now")
    shops = config.select(shop_name)
    terminal = _terminal()
    progress = _StatusLine() if terminal else None
    rows: list[dict[str, Any]] = []
    with _store(config) as store:
        for shop in shops:
            started = time.monotonic()
            outcome = next(engine.sync(config, store, shop.name, dry_run=dry_run, full=full,
                                       now=now, progress=progress))
            rows.append(_shop_summary(outcome, time.monotonic() - started))
            if dry_run:
                _print_moves(outcome, terminal)
            if terminal:
                from journeybridge.logs import scrub

                for failure in outcome.failures[:20]:
                    click.echo(scrub(f"journeybridge: [{shop.name}] {failure}"), err=True)
    code = _worst(row["exit_code"] for row in rows)
    if terminal:
        _print_table(rows)
    else:
        _summary_line({"exit_code": code, "shops": rows})
    sys.exit(code)


# -- journeys -------------------------------------------------------------------------------

@click.command()
@shop_option
@config_option
@now_option
@_exit_on_errors
def journeys(shop_name: str | None, config_path: Path | None, now_text: str | None) -> None:
    """Print every person's journey summary with stage, since, segments and reasons as JSON
    lines: from the state store, or from a pull when the shop has no state yet."""
    from journeybridge.sync import current_journeys

    config = _setup(config_path)
    now = parse_moment(now_text, "--now")
    with _store(config) as store:
        for shop in config.select(shop_name):
            people, results, source = current_journeys(config, shop, store, now)
            for journey, result in zip(people, results):
                person = journey.person
                click.echo(json.dumps({
                    "shop": shop.name, "person": person.key,
                    "customer_id": person.customer_id, "guest": person.is_guest,
                    "stage": result.stage.value, "label": config.stages.label(result.stage),
                    "since": result.since.isoformat(), "segments": list(result.segments),
                    "flags": list(result.flags),
                    "reasons": [{"rule": r.rule, "text": r.text} for r in result.reasons],
                    "orders": len(journey.orders), "reviews": len(journey.reviews),
                    "touchpoints": len(journey.touchpoints), "source": source,
                }, ensure_ascii=False, default=str))


# -- status ---------------------------------------------------------------------------------

@click.command()
@shop_option
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000),
              help="Runs per shop.")
@config_option
@_exit_on_errors
def status(shop_name: str | None, limit: int, config_path: Path | None) -> None:
    """Recent runs per shop: when, how long, what was pulled, changed and written, and
    errors. A table on a terminal, JSON lines otherwise."""
    config = _setup(config_path)
    terminal = _terminal()
    with _store(config) as store:
        for shop in config.select(shop_name):
            runs = store.runs(shop.name, limit)
            if not terminal:
                for run in runs:
                    click.echo(json.dumps(run.as_dict(), ensure_ascii=False))
                continue
            click.echo(f"{shop.name}: {len(runs)} recent run(s)")
            for run in runs:
                took = (datetime.fromisoformat(run.finished_at)
                        - datetime.fromisoformat(run.started_at)).total_seconds() \
                    if run.finished_at else 0.0
                click.echo(f"  {run.started_at[:19]}Z {run.status:<8} {run.mode:<11} "
                           f"{took:6.1f}s  pulled {run.customers}c/{run.orders}o/"
                           f"{run.reviews}r  changed {run.changed}  written {run.written}/"
                           f"{run.planned}  failed {run.failed}")
                for error in run.errors[:3]:
                    click.echo(f"      {error}")


COMMANDS = (init, check, sync, journeys, status)
"""The commands to register on the main group (``main.add_command`` each)."""


@click.group()
def _standalone() -> None:
    """journeybridge's sync commands (for ``python -m journeybridge.cli_sync``)."""


for _command in COMMANDS:
    _standalone.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    _standalone()
