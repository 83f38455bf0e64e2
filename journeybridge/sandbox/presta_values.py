"""How a PrestaShop 8.1.2 shop writes values: dates, money, integers, keys and hashes.

Dates are ``YYYY-MM-DD HH:MM:SS`` in shop time with ``0000-00-00 00:00:00`` for never; prices
carry six decimals; a written value is read back with its field's JSON type, integers the way
PHP's ``(int)`` casts a string.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from .presta_schema import Field
from .records import SHOP_TIMEZONE

ZERO_DATE = "0000-00-00 00:00:00"
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def shop_date(when: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in the shop's time zone, the zero date for None."""
    if when is None:
        return ZERO_DATE
    return when.astimezone(SHOP_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


def money(value: Decimal | float | int) -> str:
    """Six decimals, as PrestaShop stores prices."""
    return f"{Decimal(value):.6f}"


def hex_key(*parts: object, n: int = 32) -> str:
    """A deterministic hex string of ``n`` digits (secure keys)."""
    return hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=32).hexdigest()[:n]


_HASH_CHARS = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def fake_password_hash(*parts: object) -> str:
    """A deterministic string shaped like a bcrypt hash (``$2y$10$`` + 53 characters)."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=64).digest()
    return "$2y$10$" + "".join(_HASH_CHARS[b % 64] for b in digest[:53])


def typed(f: Field, value: Any) -> Any:
    """A written value read back with the field's JSON type (None stays None)."""
    if value is None:
        return None
    if f.kind == "int":
        return php_int(str(value))
    return str(value)


def php_int(text: str) -> int:
    """PHP's ``(int)`` of a string: leading sign and digits, else 0."""
    text = text.strip()
    digits = ""
    for i, ch in enumerate(text):
        if ch.isdigit() or (i == 0 and ch in "+-"):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def parse_local(text: str) -> int:
    """Unix seconds of a shop-time ``YYYY-MM-DD HH:MM:SS``, 0 when it does not parse."""
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return 0
    return int(naive.replace(tzinfo=SHOP_TIMEZONE).timestamp())


def parse_shop_date(text: str) -> datetime | None:
    """A zone-less datetime from a date as filters and writes may give it (with seconds,
    minutes or only the day), else None."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def php_number(text: str) -> float:
    """The number MySQL reads from the start of a text (0 when it starts with none)."""
    m = re.match(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text)
    return float(m.group(0)) if m else 0.0
