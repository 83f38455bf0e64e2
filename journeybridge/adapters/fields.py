"""Reading loosely typed API values, shared by the platform mappings: both platforms send
numbers as strings or numbers and empty strings for "nothing", and a hostile or broken shop
can send anything. Every reader here either returns a value a journey can safely compute with
or says it cannot (None, a problem, ValueError); none raises anything else.

Bounds (values outside are a malformed record, never a crash later): ids are positive
integers below 2**63; counts are 0 to 1,000,000,000; amounts are finite, below 10**15 in size
and have at most 12 decimal places; timestamps lie between 1970 and 2200. Digits are ASCII
digits only (``"²"`` is not a number).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from journeybridge.model import AMOUNT_LIMIT

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "bounded_time",
    "count",
    "local_time",
    "money",
    "record_id",
    "reference",
    "text",
]

MAX_ID = 2**63 - 1
MAX_COUNT = 1_000_000_000
MAX_AMOUNT = AMOUNT_LIMIT  # the model refuses larger amounts too (a damaged store)
MAX_DECIMALS = 12
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)


_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,14}(?:\.[0-9]{1,12})?")
"""The shape every real amount has ("24.95", "-5.00", "0.000000"): read without more checks."""


def text(value: Any) -> str:
    """A string, number or None as trimmed text ("" for None, booleans and structures)."""
    if type(value) is str:
        return value.strip()
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return ""


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def record_id(value: Any) -> str | None:
    """A positive id as its canonical text (``7``, ``"7"``, ``" 07"`` -> ``"7"``), else None
    (``0``, ``"0"``, missing, ``"²"``, a number of 5,000 digits, anything else)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value) if 0 < value <= MAX_ID else None
    if isinstance(value, str):
        stripped = value.strip()
        if _digits(stripped) and len(stripped) <= 20:
            number = int(stripped)
            return str(number) if 0 < number <= MAX_ID else None
    return None


def reference(value: Any, name: str, problems: list[str]) -> str | None:
    """An id pointing at another record (``customer_id``, ``id_customer``): None for "none"
    (missing, ``0``, ``"0"``, ``""``); the canonical id; else a problem naming ``name`` (a
    ``"²"`` is a broken record, not a guest) and None."""
    if value is None or value == "" or value == 0 or value == "0":
        return None
    rid = record_id(value)
    if rid is None:
        problems.append(f"field '{name}': not an id ({_shown(value)})")
    return rid


def count(value: Any) -> int | None:
    """A count (quantity) from 0 to :data:`MAX_COUNT`, sent as an int or ASCII digits; None
    for anything else (negative, ``"²"``, ``"1.5"``, absurdly large)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, str):
        stripped = value.strip()
        if _digits(stripped) and len(stripped) <= 10:
            number = int(stripped)
            return number if number <= MAX_COUNT else None
    return None


def money(value: Any, name: str, problems: list[str]) -> Decimal:
    """An amount sent as a decimal string or number, exactly (never through float
    arithmetic); empty is 0. A value that is not an amount, or an absurd one (infinite,
    ``1e26``, more than 12 decimal places), adds a problem naming ``name`` and gives 0, so
    the caller can report every bad field of the record at once."""
    kind = type(value)
    if kind is str or kind is float or kind is int:
        plain = value if kind is str else str(value)
        if _PLAIN_AMOUNT.fullmatch(plain):
            return Decimal(plain)  # the fast path: within every bound by its shape
    if value is None or value == "":
        return Decimal("0")
    amount: Decimal | None = None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        raw = str(value).strip()
        if raw.isascii() and len(raw) <= 40:
            try:
                amount = Decimal(raw)
            except InvalidOperation:
                amount = None
    if amount is None or not amount.is_finite():
        problems.append(f"field '{name}': not an amount ({_shown(value)})")
        return Decimal("0")
    exponent = amount.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    if abs(amount) >= MAX_AMOUNT or places > MAX_DECIMALS:
        problems.append(f"field '{name}': not a plausible amount ({_shown(value)})")
        return Decimal("0")
    return amount


def _shown(value: Any) -> str:
    shown = repr(str(value)[:20])
    return "an e-mail address" if "@" in shown else shown


def bounded_time(moment: datetime) -> datetime:
    """``moment`` (aware) in UTC; ValueError when it lies outside 1970..2200 or cannot be
    converted (a year-1 date in a zone east of UTC overflows)."""
    try:
        utc = moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise ValueError("out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError("out of range (before 1970 or after 2200)")
    return utc


def local_time(naive: datetime, zone: tzinfo) -> datetime:
    """A naive wall-clock time read in ``zone`` as aware UTC, bounded like
    :func:`bounded_time`. A time in a repeated hour (DST fall-back) is taken as its first
    pass (``fold=0``), the earlier instant: a cursor built from it is never late."""
    if 1970 < naive.year < 2199:  # no offset can carry it out of range: the fast path
        aware = naive.replace(tzinfo=zone)
        return aware if zone is timezone.utc else aware.astimezone(timezone.utc)
    return bounded_time(naive.replace(tzinfo=zone))
