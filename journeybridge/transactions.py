"""Journeys from a plain purchase history, so any system's orders can be classified and
backtested.

A transaction row has five columns (:data:`COLUMNS`):

* ``customer_id``: who bought (any text that is the same for the same customer);
* ``order_id``: the order (any text, unique per order; rows with the same order id are lines
  of one order, and their amounts add up);
* ``date``: when it was paid, ``YYYY-MM-DD``, ``YYYYMMDD`` or an ISO 8601 time (UTC when it
  has no offset);
* ``amount``: the money paid, a decimal number such as ``12.50``;
* ``currency``: a three-letter code such as ``EUR``.

Every order is taken as paid and done at its date (a history has no open orders).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

from journeybridge.errors import ConfigError
from journeybridge.identity import touchpoints_for
from journeybridge.model import Journey, Order, OrderStatus, Person, Platform

__all__ = ["COLUMNS", "journeys_from_transactions", "read_transactions"]

#: The columns a transaction row must have.
COLUMNS: Final = ("customer_id", "order_id", "date", "amount", "currency")


def _when(text: str, line: int) -> datetime:
    value = text.strip()
    try:
        if len(value) == 8 and value.isdigit():
            moment = datetime.strptime(value, "%Y%m%d")
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"row {line}: {text!r} is not a date (use YYYY-MM-DD)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _amount(text: str, line: int) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ConfigError(f"row {line}: {text!r} is not an amount (use e.g. 12.50)") from None
    if not value.is_finite() or value < 0:
        raise ConfigError(f"row {line}: the amount {text!r} must be zero or more")
    return value


def journeys_from_transactions(rows: Iterable[Mapping[str, str]], *,
                               shop: str = "transactions") -> list[Journey]:
    """One journey per customer from transaction rows (mappings with the keys of
    :data:`COLUMNS`), sorted by customer id. Raises :class:`~journeybridge.errors.ConfigError`
    naming the row for a missing column, a bad date or a bad amount."""
    orders: dict[str, dict[str, tuple[datetime, Decimal, str]]] = {}
    for line, row in enumerate(rows, start=1):
        missing = [c for c in COLUMNS if not str(row.get(c) or "").strip()]
        if missing:
            raise ConfigError(f"row {line}: no {', '.join(missing)} "
                              f"(the columns are {', '.join(COLUMNS)})")
        customer, order_id = str(row["customer_id"]).strip(), str(row["order_id"]).strip()
        at = _when(str(row["date"]), line)
        amount = _amount(str(row["amount"]), line)
        currency = str(row["currency"]).strip().upper()
        mine = orders.setdefault(customer, {})
        if order_id in mine:
            first, total, cur = mine[order_id]
            mine[order_id] = (min(first, at), total + amount, cur)
        else:
            mine[order_id] = (at, amount, currency)
    journeys: list[Journey] = []
    for customer in sorted(orders):
        person = Person(shop=shop, platform=Platform.WOOCOMMERCE, key=f"customer:{customer}",
                        customer_id=customer)
        placed = [Order(id=order_id, customer_id=customer, status=OrderStatus.DELIVERED,
                        raw_status="paid", currency=currency, total=total, created_at=at,
                        paid_at=at, completed_at=at)
                  for order_id, (at, total, currency) in sorted(
                      orders[customer].items(), key=lambda item: (item[1][0], item[0]))]
        journeys.append(Journey(person=person, orders=tuple(placed),
                                touchpoints=touchpoints_for(person, placed, (), ())))
    return journeys


def read_transactions(path: Path, *, shop: str = "transactions") -> list[Journey]:
    """The journeys of a CSV file with a header row naming (at least) :data:`COLUMNS`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or ()]
            absent = [c for c in COLUMNS if c not in header]
            if absent:
                raise ConfigError(f"{path.name}: the header lacks {', '.join(absent)} "
                                  f"(the columns are {', '.join(COLUMNS)})")
            rows = ({(k or "").strip(): v for k, v in row.items()} for row in reader)
            return journeys_from_transactions(rows, shop=shop)
    except OSError as exc:
        raise ConfigError(f"cannot read {path.name}: {exc.strerror or 'unreadable'}") from None
