"""Logging for the CLI: JSON lines on stderr where no person is watching (cron, CI, a pipe),
short plain lines on a terminal. Every line passes through :func:`~journeybridge.redact.scrub`,
so no API key, secret, password in a URL or e-mail address reaches a log."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from journeybridge.redact import scrub  # re-exported: the one redaction

__all__ = ["JsonLinesFormatter", "PlainFormatter", "configure_logging",
           "scrub"]

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_HANDLER_NAME = "journeybridge-cli"


def _json_safe(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return scrub(value) if isinstance(value, str) else value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return scrub(str(value))


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (UTC ISO 8601), ``level``, ``logger``, ``msg``, and
    every ``extra`` field given to the log call (``shop``, ``event``, counts...)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line, scrubbed."""
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data:
                data[key] = _json_safe(value)
        if record.exc_info and record.exc_info[0] is not None:
            data["exc"] = scrub(self.formatException(record.exc_info).splitlines()[-1])
        return json.dumps(data, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """``journeybridge: [shop] message`` for a person at a terminal, scrubbed; the line
    starts by clearing a progress line drawn there."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one short line."""
        shop = getattr(record, "shop", None)
        where = f"[{shop}] " if shop else ""
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        return "\r\x1b[2K" + scrub(f"journeybridge: {level}{where}{record.getMessage()}")


def configure_logging(terminal: bool, *, verbose: bool = False,
                      stream: TextIO | None = None) -> None:
    """Send the ``journeybridge`` loggers to ``stream`` (default stderr): JSON lines from INFO
    up without a terminal, plain lines from WARNING up on one; ``verbose`` adds everything
    from DEBUG up (tracebacks of unexpected errors included).
    Idempotent: a second call replaces the handler of the first."""
    logger = logging.getLogger("journeybridge")
    for handler in list(logger.handlers):
        if handler.get_name() == _HANDLER_NAME:
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(PlainFormatter() if terminal else JsonLinesFormatter())
    handler.setLevel(logging.DEBUG if verbose else logging.INFO if not terminal
                     else logging.WARNING)
    logger.addHandler(handler)
    wanted = logging.DEBUG if verbose else logging.INFO
    if logger.getEffectiveLevel() > wanted:
        logger.setLevel(wanted)
