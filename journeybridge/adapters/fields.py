"""Reading loosely typed API values, shared by the platform mappings: both platforms send
numbers as strings or numbers and empty strings for "nothing"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["money", "text"]


def text(value: Any) -> str:
    """A string, number or None as trimmed text ("" for None, booleans and structures)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return ""


def money(value: Any, name: str, problems: list[str]) -> Decimal:
    """An amount sent as a decimal string or number, exactly (never through float
    arithmetic); empty is 0. A value that is not an amount adds a problem naming ``name``
    and gives 0, so the caller can report every bad field of the record at once."""
    if value is None or value == "":
        return Decimal("0")
    amount: Decimal | None
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        problems.append(f"field '{name}': not an amount ({str(value)[:20]!r})")
        return Decimal("0")
    return amount
