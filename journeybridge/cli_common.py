"""What the command modules share: the exit codes and the reading of time options.

Exit codes: 0 success, 1 partial (some records or writes failed, reported), 2 configuration
error, 3 shop unreachable or credentials refused, 75 another run holds the shop's lock."""

from __future__ import annotations

from datetime import datetime, timezone

from journeybridge.errors import ConfigError

__all__ = ["EXIT_CONFIG", "EXIT_LOCKED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_UNREACHABLE",
           "parse_moment"]

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3
EXIT_LOCKED = 75  # EX_TEMPFAIL: cron may simply try again next time


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
