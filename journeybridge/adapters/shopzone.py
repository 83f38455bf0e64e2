"""The shop's own time zone, as the shop says it, next to the configured one.

PrestaShop writes every date in its time zone without an offset (``PS_TIMEZONE``, which the
Webservice's ``configurations`` resource gives to a key allowed to read it); WordPress's REST
index gives ``timezone_string`` (an IANA name, empty when the site is set to a plain offset)
and ``gmt_offset`` (hours). :func:`settle` picks the zone an adapter reads in: the configured
one when there is one (with a warning when the shop says another), else the shop's, else UTC
with a warning that says how to fix it. Platform code asks the shop; this module only
decides.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["offset_zone", "settle", "zone_name"]

log = logging.getLogger("journeybridge.timezone")


def zone_name(value: Any) -> str | None:
    """``value`` when it is an IANA time zone name this computer knows, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def offset_zone(hours: Any) -> str | None:
    """The fixed zone of a whole-hour offset from UTC (``"2"`` -> ``Etc/GMT-2``, POSIX signs
    are inverted), ``UTC`` for 0; None for anything else (half hours, garbage)."""
    try:
        value = float(hours)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value != int(value) or not -12 <= value <= 14:
        return None
    whole = int(value)
    return "UTC" if whole == 0 else f"Etc/GMT{'-' if whole > 0 else '+'}{abs(whole)}"


def _same_clock(a: str, b: str) -> bool:
    """True when zones ``a`` and ``b`` show the same time in January and in July."""
    year = datetime.now(timezone.utc).year
    for month in (1, 7):
        moment = datetime(year, month, 15, 12, tzinfo=timezone.utc)
        if moment.astimezone(ZoneInfo(a)).utcoffset() != moment.astimezone(ZoneInfo(b)).utcoffset():
            return False
    return True


def settle(configured: str | None, found: str | None, *, shop: str, source: str,
           missing: str = "") -> str:
    """The zone to read ``shop``'s dates in: ``configured`` when given (a warning when the
    zone the shop gave, ``found``, keeps another clock), else ``found``, else UTC with a
    warning (``missing`` says why the shop did not tell; ``source`` names where we asked)."""
    if configured is not None:
        if found is not None and not _same_clock(configured, found):
            log.warning("%s: the configured timezone %s differs from the shop's own %s (%s): "
                        "times are read in %s; remove timezone from the configuration to use "
                        "the shop's", shop, configured, found, source, configured,
                        extra={"event": "timezone_differs"})
        return configured
    if found is not None:
        log.info("%s: time zone %s, from %s", shop, found, source,
                 extra={"event": "timezone_found"})
        return found
    log.warning("%s: the shop did not tell its time zone (%s)%s: times are read as UTC; set "
                "timezone in the shop's configuration table", shop, source,
                f": {missing}" if missing else "", extra={"event": "timezone_unknown"})
    return "UTC"
