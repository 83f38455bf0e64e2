"""What every command shares: the exit codes and the one map from errors to them, the command
class that applies it, the session that builds configuration and state store once, and the
options several commands take.

Exit codes (the README's promise to cron users)::

    0   success (also when the reader of our output went away: ``journeys | head``)
    1   partial: some records, writes or events failed (each reported)
    2   configuration or usage error: a file, value or option is wrong, a person that does
        not exist (click's own usage errors are 2 too)
    3   a shop unreachable, its keys refused, a URL that is not a shop's API, the state store
        unreachable, or Meta refused the access token
    75  EX_TEMPFAIL: another run is syncing this shop right now; try again later

With several shops the most serious code wins: 2, then 3, then 1, then 75, then 0.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from journeybridge.config import Config, ShopConfig, load_config
from journeybridge.errors import (
    AuthenticationError,
    ConfigError,
    GraphAuthError,
    JourneybridgeError,
    NotAShopAPI,
    PermissionDenied,
    PersonNotFound,
    PlatformMissing,
    ShopBusy,
    ShopUnreachable,
    StateStoreError,
    UnexpectedError,
)
from journeybridge.redact import scrub
from journeybridge.state import StateStore

__all__ = [
    "EXIT_CONFIG",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_UNREACHABLE",
    "Command",
    "Session",
    "config_option",
    "exit_code_for",
    "format_option",
    "now_option",
    "parse_moment",
    "sandbox_options",
    "shop_option",
    "uses_session",
    "worst",
]

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3
EXIT_LOCKED = 75  # EX_TEMPFAIL from sysexits.h: cron may simply try again next time

_USAGE = (ConfigError, PersonNotFound)
_UNREACHABLE = (ShopUnreachable, NotAShopAPI, PlatformMissing, AuthenticationError,
                PermissionDenied, StateStoreError, GraphAuthError)
_SEVERITY = (EXIT_CONFIG, EXIT_UNREACHABLE, EXIT_PARTIAL, EXIT_LOCKED, EXIT_OK)

F = TypeVar("F", bound=Callable[..., Any])


def exit_code_for(error: BaseException | None, partial: bool = False) -> int:
    """The exit code of one outcome: its error's kind (see the module docstring), else
    partial (1) or success (0). Every command decides its code through this function."""
    if isinstance(error, ShopBusy):
        return EXIT_LOCKED
    if isinstance(error, (*_USAGE, click.UsageError)):
        return EXIT_CONFIG
    if isinstance(error, _UNREACHABLE):
        return EXIT_UNREACHABLE
    if error is not None:
        return EXIT_PARTIAL
    return EXIT_PARTIAL if partial else EXIT_OK


def worst(codes: Iterable[int]) -> int:
    """The most serious of ``codes`` (2, then 3, then 1, then 75; 0 when there are none)."""
    found = set(codes)
    return next((code for code in _SEVERITY if code in found), EXIT_OK)


def error_message(error: BaseException) -> str:
    """The one line a command prints on stderr for ``error``, scrubbed."""
    kind = "configuration error: " if isinstance(error, ConfigError) else ""
    return scrub(f"journeybridge: {kind}{error}")


def _silence_stdout() -> None:
    """After the reader of stdout went away: send what is still buffered to /dev/null, so
    the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class Command(click.Command):
    """A click command whose typed errors become one line on stderr and
    :func:`exit_code_for`'s code, and for which a closed output pipe is a normal end (0)."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; map JourneybridgeError and a broken pipe to exit codes."""
        try:
            return super().invoke(ctx)
        except JourneybridgeError as exc:
            click.echo(error_message(exc), err=True)
            ctx.exit(exit_code_for(exc))
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(EXIT_OK)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("verbose"):
                import traceback

                traceback.print_exc()
            click.echo(error_message(UnexpectedError.of(exc)), err=True)
            ctx.exit(exit_code_for(UnexpectedError.of(exc)))


class Group(click.Group):
    """The ``journeybridge`` group: its commands are :class:`Command`."""

    command_class = Command


def parse_moment(value: str | None, option: str) -> datetime | None:
    """A date or ISO 8601 time given to ``option``, as an aware datetime (UTC when it names no
    zone); None when not given. Raises ConfigError naming the option otherwise."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{option}: expected a date (2026-11-01) or an ISO 8601 time such as "
                          f"2026-05-01T12:00:00Z, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Session:
    """What one command run shares, built once and only when asked for: the logging, the
    configuration (``--config``), the state store (closed when the command ends)."""

    def __init__(self, config_path: Path | None = None, *, verbose: bool = False) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._config: Config | None = None
        self._store: StateStore | None = None
        self._closing = contextlib.ExitStack()

    def log_to_stderr(self) -> None:
        """Send the library's log lines to stderr (JSON lines without a terminal)."""
        from journeybridge.cli.output import terminal
        from journeybridge.logs import configure_logging

        configure_logging(terminal(), verbose=self.verbose)

    @property
    def config(self) -> Config:
        """The validated configuration (read once). Raises ConfigError."""
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def store(self) -> StateStore:
        """The configured state store, opened and migrated once. Raises StateStoreError."""
        if self._store is None:
            from journeybridge.state import open_store

            self._store = self._closing.enter_context(open_store(self.config.state_url()))
        return self._store

    def shops(self, name: str | None) -> list[ShopConfig]:
        """The shop called ``name``, or every configured shop. Raises ConfigError."""
        return self.config.select(name)

    def one_shop(self, name: str | None) -> ShopConfig:
        """The shop called ``name``, or the only configured one. Raises ConfigError when
        several are configured and none is named."""
        shops = self.config.select(name)
        if len(shops) != 1:
            raise ConfigError(f"{self.config.path or 'the configuration'}: several shops "
                              f"configured; name one with --shop "
                              f"({', '.join(s.name for s in shops)})")
        return shops[0]

    def close(self) -> None:
        """Close what was opened (idempotent)."""
        self._closing.close()
        self._store = None


def uses_session(func: F) -> F:
    """Give the command a :class:`Session` (first argument) built from its ``config_path``
    (and ``verbose``, when it has that option) and closed when the command ends."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        session = Session(kwargs.pop("config_path", None),
                          verbose=bool(kwargs.get("verbose", False)))
        click.get_current_context().call_on_close(session.close)
        return func(session, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
    default=None, help="Configuration file [default: $JOURNEYBRIDGE_CONFIG or "
                       "~/.config/journeybridge/config.toml].")
shop_option = click.option("--shop", "shop_name", default=None, metavar="NAME",
                           help="Only this shop (default: every configured shop in turn).")
now_option = click.option("--now", "now_text", default=None, metavar="ISO-TIME",
                          help="Classify as of this moment instead of the current time "
                               "(reproducible runs); with --sandbox, the moment the shop is "
                               "generated for too.")

format_option = click.option(
    "--format", "output_format", type=click.Choice(["auto", "json", "csv", "table"]),
    default="auto", show_default=True,
    help="json: one JSON object a line; csv: a header and one row a line; table: aligned "
         "columns for people; auto: table on a terminal, json otherwise.")

SANDBOX_TIME_HELP = (
    "The sandbox's history (people, orders, reviews, carts) is generated backwards from its "
    "'now' (default: the current minute), so the same --seed gives another shop a few minutes "
    "later; give the same --seed and --now for the same shop.")


def sandbox_options(func: F) -> F:
    """``--sandbox N`` (a generated shop of N customers) and ``--seed``; the command gives its
    own ``--now``."""
    func = click.option("--seed", default=1, show_default=True,
                        help="Sandbox generator seed.")(func)
    return click.option("--sandbox", "sandbox_size", type=click.IntRange(50, 100_000),
                        default=None, metavar="N",
                        help="Use a generated sandbox shop of N customers instead. "
                             + SANDBOX_TIME_HELP)(func)
