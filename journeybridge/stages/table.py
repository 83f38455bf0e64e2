"""The facts the stage rules look at, for many people at once, as numpy columns.

A :class:`FactsTable` holds one row per person, all as of one moment ``now`` and for one
:class:`~journeybridge.stages.settings.StageSettings` (its windows are applied when the table is
built: "a cart within the consideration window", "a refund within the service window", ...).
Times are whole microseconds since 1970-01-01 UTC in ``int64`` (:data:`NO_TIME` where there is
none), so a time read back from the table is exactly the ``datetime`` it came from. Purchases
(one per distinct UTC day, the earliest payment of that day) are a ragged array: the purchase
times of row ``i`` are ``purchase_times[purchase_offsets[i]:purchase_offsets[i + 1]]``,
ascending.

The rules themselves (which stage, since when) live in
:func:`journeybridge.stages.rules.decide_table`; this module only gathers facts, either from
:class:`~journeybridge.stages.facts.PersonFacts` (:meth:`FactsTable.from_facts`) or directly
from arrays (the constructor, used by the benchmark).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from journeybridge.model import OrderStatus
from journeybridge.stages.bgnbd import GroupedCustomers, group_customers
from journeybridge.stages.facts import OrderAsOf, PersonFacts
from journeybridge.stages.settings import StageSettings

__all__ = [
    "DAY_US",
    "FLAG_NAMES",
    "NO_TIME",
    "BuyerTriples",
    "FactsTable",
    "Flag",
    "OrderRef",
    "datetime_of",
    "flag_names",
    "micros",
]

I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
I8 = NDArray[np.int8]
U8 = NDArray[np.uint8]
F64 = NDArray[np.float64]
Bools = NDArray[np.bool_]

#: Microseconds in a day.
DAY_US: Final = 86_400_000_000
#: The "no such time" marker in time columns.
NO_TIME: Final = int(np.iinfo(np.int64).min)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_ONE_US: Final = timedelta(microseconds=1)


class Flag:
    """Bits of the ``flags`` columns. Bit order is the alphabetical order of the flag names, so
    reading the bits from low to high gives the names sorted."""

    ABANDONED_CART: Final = 1
    ABANDONED_CHECKOUT: Final = 2
    NEWSLETTER: Final = 4
    ORDER_IN_PREPARATION: Final = 8
    PAYMENT_FAILED: Final = 16
    REFUND_OR_CANCELLATION: Final = 32


#: Flag names by bit, low to high (alphabetical).
FLAG_NAMES: Final = ("abandoned_cart", "abandoned_checkout", "newsletter",
                     "order_in_preparation", "payment_failed", "refund_or_cancellation")
_FLAG_TUPLES: Final = tuple(
    tuple(name for bit, name in enumerate(FLAG_NAMES) if mask >> bit & 1)
    for mask in range(1 << len(FLAG_NAMES)))


def flag_names(mask: int) -> tuple[str, ...]:
    """The flag names set in ``mask``, sorted."""
    return _FLAG_TUPLES[mask]


def micros(value: datetime) -> int:
    """``value`` (timezone-aware) as whole microseconds since 1970-01-01 UTC, exactly."""
    return (value - _EPOCH) // _ONE_US


def datetime_of(us: int) -> datetime:
    """The UTC ``datetime`` of a microsecond time from a table (inverse of :func:`micros`)."""
    return _EPOCH + timedelta(microseconds=us)


def day_text(us: int) -> str:
    """The ISO date (UTC) of a microsecond time, e.g. ``2026-06-01``."""
    return date.fromordinal(_EPOCH_ORDINAL + us // DAY_US).isoformat()


class OrderRef(NamedTuple):
    """How reasons name an order: its id, the number the shop shows (or the id), and the money
    refunded on it by ``now`` (as text, e.g. ``"5.00"``)."""

    id: str
    label: str
    refunded_amount: str


class BuyerTriples(NamedTuple):
    """BG/NBD's per-buyer summary in days, compressed: ``buyers`` are the rows of people with at
    least one purchase, ``grouped`` their unique (frequency, recency, age) triples with counts,
    and ``grouped.inverse[k]`` the triple of ``buyers[k]``."""

    buyers: NDArray[np.intp]
    grouped: GroupedCustomers | None


def _column(values: object, dtype: type[np.generic], name: str, n: int) -> NDArray[np.generic]:
    arr = np.ascontiguousarray(values, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class FactsTable:
    """Per-person facts, as of ``now_us`` and for ``settings``, one row per person.

    Columns (``n`` rows, times in microseconds, :data:`NO_TIME` where absent):

    * ``keys``: the person keys;
    * ``purchase_offsets`` (``n + 1``) and ``purchase_times``: the purchases, one per distinct
      UTC day (the earliest payment that day), ascending per person;
    * ``shipped_at``, ``shipped_order``: the latest change of an order that is shipped and not
      delivered, and that order (index into ``order_refs``, -1 for none);
    * ``trouble_at``, ``trouble_order``, ``trouble_refunded``: the latest change of an order
      refunded or cancelled after payment (or refunded in part) within the service window,
      that order, and whether it was a refund (else a cancellation);
    * ``flags``: :class:`Flag` bits payment_failed, abandoned_checkout, abandoned_cart (within
      the consideration window, newer than the last purchase), order_in_preparation (an order
      paid and not shipped) and newsletter;
    * ``review_at``, ``review_rating``, ``review_verified``, ``review_product``: the latest
      approved review rated at least ``advocacy_min_rating`` within the review window (product:
      index into ``texts``, -1 for none);
    * ``signal_count``, ``signal_first``, ``signal_detail``: consideration signals (unpaid
      checkouts and carts without order within the consideration window), the earliest, and
      their description (index into ``texts``: the first three, earliest first);
    * ``known_since``: the first touchpoint; ``orders_seen``: orders that existed at ``now``;
    * ``preparing_since``: when the latest order still paid and not shipped was paid
      (NO_TIME for none; default: ``now`` where the order_in_preparation flag is set, so it
      never expires); ``fulfilment_days``: for the shop, every order's days from payment to
      shipped or completed (any length, not per row; default none measured).

    The constructor checks shapes and types, never the meaning; :meth:`from_facts` derives
    every column from :class:`PersonFacts` exactly as the rules define them.
    """

    keys: Sequence[str]
    now_us: int
    settings: StageSettings
    purchase_offsets: I64
    purchase_times: I64
    shipped_at: I64
    shipped_order: I32
    trouble_at: I64
    trouble_order: I32
    trouble_refunded: Bools
    flags: U8
    review_at: I64
    review_rating: I8
    review_verified: Bools
    review_product: I32
    signal_count: I32
    signal_first: I64
    signal_detail: I32
    known_since: I64
    orders_seen: I32
    order_refs: Sequence[OrderRef]
    texts: Sequence[str]
    preparing_since: I64 | None = None
    fulfilment_days: F64 | None = None

    def __post_init__(self) -> None:
        n = len(self.keys)
        offsets = np.ascontiguousarray(self.purchase_offsets, dtype=np.int64)
        times = np.ascontiguousarray(self.purchase_times, dtype=np.int64)
        if offsets.shape != (n + 1,) or offsets[0] != 0 \
                or offsets[-1] != times.shape[0] or np.any(np.diff(offsets) < 0):
            raise ValueError("purchase_offsets must run from 0 to len(purchase_times), "
                             f"non-decreasing, with {n + 1} entries")
        object.__setattr__(self, "purchase_offsets", offsets)
        object.__setattr__(self, "purchase_times", times)
        kinds: dict[str, type[np.generic]] = {
            "shipped_at": np.int64, "shipped_order": np.int32, "trouble_at": np.int64,
            "trouble_order": np.int32, "trouble_refunded": np.bool_, "flags": np.uint8,
            "review_at": np.int64, "review_rating": np.int8, "review_verified": np.bool_,
            "review_product": np.int32, "signal_count": np.int32, "signal_first": np.int64,
            "signal_detail": np.int32, "known_since": np.int64, "orders_seen": np.int32,
        }
        for name, dtype in kinds.items():
            object.__setattr__(self, name, _column(getattr(self, name), dtype, name, n))
        if self.preparing_since is None:
            preparing = (self.flags & Flag.ORDER_IN_PREPARATION) != 0
            object.__setattr__(self, "preparing_since",
                               np.where(preparing, self.now_us, NO_TIME).astype(np.int64))
        else:
            object.__setattr__(self, "preparing_since", _column(
                self.preparing_since, np.int64, "preparing_since", n))
        object.__setattr__(self, "fulfilment_days", np.ascontiguousarray(
            np.zeros(0) if self.fulfilment_days is None else self.fulfilment_days,
            dtype=np.float64).reshape(-1))

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def now(self) -> datetime:
        """The moment the facts are taken at (UTC)."""
        return datetime_of(self.now_us)

    # -- derived columns (computed once, on first use) -----------------------------------------

    @cached_property
    def purchases(self) -> I64:
        """Purchases (distinct days with a paid order) per person."""
        return np.diff(self.purchase_offsets)

    @cached_property
    def first_purchase(self) -> I64:
        """When the first purchase was paid; NO_TIME without purchases."""
        return self._pick(self.purchase_offsets[:-1])

    @cached_property
    def last_purchase(self) -> I64:
        """When the latest purchase was paid; NO_TIME without purchases."""
        return self._pick(self.purchase_offsets[1:] - 1)

    def _pick(self, index: I64) -> I64:
        out = np.full(len(self), NO_TIME, dtype=np.int64)
        bought = self.purchases > 0
        out[bought] = self.purchase_times[index[bought]]
        return out

    def nth_purchase(self, nth: int) -> I64:
        """When the ``nth`` purchase (1-based) was paid; NO_TIME for people with fewer."""
        if nth < 1:
            raise ValueError("nth counts from 1")
        out = np.full(len(self), NO_TIME, dtype=np.int64)
        enough = self.purchases >= nth
        out[enough] = self.purchase_times[self.purchase_offsets[:-1][enough] + nth - 1]
        return out

    @cached_property
    def purchase_owner(self) -> NDArray[np.intp]:
        """For every entry of ``purchase_times``, the row it belongs to."""
        return np.repeat(np.arange(len(self), dtype=np.intp), self.purchases)

    @cached_property
    def purchase_days(self) -> I64:
        """``purchase_times`` as day numbers (days since 1970-01-01, UTC)."""
        return self.purchase_times // DAY_US

    @cached_property
    def gap_offsets(self) -> I64:
        """Offsets of each person's gaps in :attr:`gap_days` (``n + 1`` entries)."""
        counts = np.maximum(self.purchases - 1, 0)
        out = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(counts, out=out[1:])
        return out

    @cached_property
    def gap_days(self) -> I64:
        """Whole days between consecutive purchase days, person by person (ragged, with
        :attr:`gap_offsets`)."""
        days = self.purchase_days
        if days.shape[0] < 2:
            return np.zeros(0, dtype=np.int64)
        later = np.ones(days.shape[0], dtype=np.bool_)
        later[self.purchase_offsets[:-1][self.purchases > 0]] = False
        return np.diff(days)[later[1:]]

    @cached_property
    def median_gap_days(self) -> F64:
        """Each person's usual gap: the middle one of their sorted gaps (the upper of the two
        middle ones for an even count), NaN with fewer than two gaps."""
        out = np.full(len(self), np.nan, dtype=np.float64)
        counts = np.diff(self.gap_offsets)
        rows = np.flatnonzero(counts >= 2)
        if rows.size == 0:
            return out
        gaps = self.gap_days
        owner = np.repeat(np.arange(len(self), dtype=np.int64), counts)
        # sort by (person, gap) in one pass: gaps are small positive day counts
        ordered = np.sort((owner << 32) | gaps) & 0xFFFFFFFF
        out[rows] = ordered[self.gap_offsets[rows] + counts[rows] // 2]
        return out

    @cached_property
    def buyer_triples(self) -> BuyerTriples:
        """BG/NBD's (frequency, recency, age) in days for every buyer, grouped: repeat purchase
        days, first to last purchase day, first purchase day to ``now`` (at least 0)."""
        bought = self.purchases > 0
        buyers = np.flatnonzero(bought)
        if buyers.size == 0:
            return BuyerTriples(buyers, None)
        first = self.first_purchase[bought] // DAY_US
        last = self.last_purchase[bought] // DAY_US
        x = (self.purchases[bought] - 1).astype(np.float64)
        recency = (last - first).astype(np.float64)
        age = np.maximum(self.now_us // DAY_US - first, 0).astype(np.float64)
        return BuyerTriples(buyers, group_customers(x, recency, age))

    # -- building from PersonFacts ---------------------------------------------------------------

    @classmethod
    def from_facts(cls, facts: Sequence[PersonFacts], settings: StageSettings,
                   keys: Sequence[str] | None = None,
                   now: datetime | None = None) -> FactsTable:
        """The table of ``facts`` (all taken at the same ``now``) for ``settings``, with
        ``keys`` as the person keys (default: "0", "1", ...). ``now`` is needed only for an
        empty ``facts``. Every column is derived exactly as the stage rules define it, so
        :func:`~journeybridge.stages.rules.decide_table` on this table decides what the rules
        say about each person. Raises ValueError for facts taken at different moments."""
        if keys is None:
            keys = [str(i) for i in range(len(facts))]
        if len(keys) != len(facts):
            raise ValueError(f"{len(keys)} keys for {len(facts)} people")
        if facts:
            moment = facts[0].now
        elif now is not None:
            moment = now
        else:
            raise ValueError("now is needed to build an empty table")
        if any(f.now != moment for f in facts):
            raise ValueError("all facts must be taken at the same moment")
        builder = _Builder(moment, settings)
        for person in facts:
            builder.add(person)
        return builder.table(list(keys))


class _Builder:
    """Collects the columns of a :class:`FactsTable` person by person."""

    def __init__(self, now: datetime, settings: StageSettings) -> None:
        self.now = now
        self.settings = settings
        self.window = timedelta(days=settings.consideration_window_days)
        self.service_window = timedelta(days=settings.service_window_days)
        self.review_window = timedelta(days=settings.advocacy_review_window_days)
        self.abandoned_after = timedelta(hours=settings.abandoned_after_hours)
        self.cols: dict[str, list[int]] = {name: [] for name in (
            "shipped_at", "shipped_order", "trouble_at", "trouble_order", "trouble_refunded",
            "flags", "review_at", "review_rating", "review_verified", "review_product",
            "signal_count", "signal_first", "signal_detail", "known_since", "orders_seen",
            "preparing_since")}
        self.fulfilment: list[float] = []
        self.offsets = [0]
        self.times: list[int] = []
        self.order_refs: list[OrderRef] = []
        self.texts: list[str] = []

    def _order(self, seen: OrderAsOf) -> int:
        self.order_refs.append(OrderRef(seen.order.id, seen.order.number or seen.order.id,
                                        str(seen.refunded_amount)))
        return len(self.order_refs) - 1

    def _text(self, text: str) -> int:
        self.texts.append(text)
        return len(self.texts) - 1

    def _flags(self, facts: PersonFacts) -> int:
        now, window = self.now, self.window
        last_paid = facts.last_purchase
        flags = 0
        for seen in facts.orders:
            recent = now - seen.changed_at <= window
            newer_than_purchase = last_paid is None or seen.order.created_at > last_paid
            if not (recent and newer_than_purchase):
                continue
            if seen.status is OrderStatus.FAILED:
                flags |= Flag.PAYMENT_FAILED
            if seen.status.is_open_checkout and \
                    now - seen.order.created_at >= self.abandoned_after:
                flags |= Flag.ABANDONED_CHECKOUT
        for cart in facts.open_carts:
            at = cart.updated_at or cart.created_at
            if now - at <= window and now - at >= self.abandoned_after and \
                    (last_paid is None or at > last_paid):
                flags |= Flag.ABANDONED_CART
        if any(seen.status is OrderStatus.PAID for seen in facts.orders):
            flags |= Flag.ORDER_IN_PREPARATION
        preparing = [seen.paid_at or seen.order.created_at for seen in facts.orders
                     if seen.status is OrderStatus.PAID]
        self.cols["preparing_since"].append(micros(max(preparing)) if preparing else NO_TIME)
        for seen in facts.orders:
            done = _fulfilled_at(seen, now)
            if done is not None and seen.paid_at is not None:
                self.fulfilment.append(max((done - seen.paid_at) / timedelta(days=1), 0.0))
        if facts.subscribed:
            flags |= Flag.NEWSLETTER
        return flags

    def add(self, facts: PersonFacts) -> None:
        now, cols = self.now, self.cols
        for paid in facts.purchase_times:
            self.times.append(micros(paid))
        self.offsets.append(len(self.times))
        cols["flags"].append(self._flags(facts))

        shipped: OrderAsOf | None = None
        for seen in facts.orders:
            if seen.status is OrderStatus.SHIPPED and \
                    (shipped is None or seen.changed_at > shipped.changed_at):
                shipped = seen
        cols["shipped_at"].append(NO_TIME if shipped is None else micros(shipped.changed_at))
        cols["shipped_order"].append(-1 if shipped is None else self._order(shipped))

        troubled = [o for o in facts.orders
                    if (o.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED)
                        and ((o.order.paid_at is not None and o.order.paid_at <= now)
                             or o.refunds)
                        and now - o.changed_at <= self.service_window)]
        troubled += [o for o in facts.orders if o.refunds and o.status.is_paid and
                     any(r.at is not None and now - r.at <= self.service_window
                         for r in o.refunds)]
        trouble: OrderAsOf | None = None
        for seen in troubled:
            if trouble is None or seen.changed_at > trouble.changed_at:
                trouble = seen
        cols["trouble_at"].append(NO_TIME if trouble is None else micros(trouble.changed_at))
        cols["trouble_order"].append(-1 if trouble is None else self._order(trouble))
        cols["trouble_refunded"].append(trouble is not None and (
            bool(trouble.refunds) or trouble.status is OrderStatus.REFUNDED))

        review = None
        for r in facts.reviews:
            if r.approved and r.rating >= self.settings.advocacy_min_rating and \
                    now - r.created_at <= self.review_window and \
                    (review is None or r.created_at > review.created_at):
                review = r
        cols["review_at"].append(NO_TIME if review is None else micros(review.created_at))
        cols["review_rating"].append(0 if review is None else review.rating)
        cols["review_verified"].append(review is not None and review.verified)
        cols["review_product"].append(-1 if review is None else self._text(
            review.product_name or f"product {review.product_id}"))

        signals: list[tuple[datetime, str]] = []
        for seen in facts.orders:
            if seen.status.is_open_checkout and now - seen.order.created_at <= self.window:
                signals.append((seen.order.created_at,
                                f"order {seen.order.number or seen.order.id} "
                                f"{seen.order.raw_status} (unpaid)"))
        for cart in facts.open_carts:
            at = cart.updated_at or cart.created_at
            if now - at <= self.window:
                signals.append((at, f"cart {cart.id} with {len(cart.lines)} products, no order"))
        signals.sort()
        cols["signal_count"].append(len(signals))
        cols["signal_first"].append(micros(signals[0][0]) if signals else NO_TIME)
        cols["signal_detail"].append(
            self._text("; ".join(text for _, text in signals[:3])) if signals else -1)
        cols["known_since"].append(NO_TIME if facts.known_since is None
                                   else micros(facts.known_since))
        cols["orders_seen"].append(len(facts.orders))

    def table(self, keys: list[str]) -> FactsTable:
        c = self.cols
        return FactsTable(
            keys=keys, now_us=micros(self.now), settings=self.settings,
            purchase_offsets=np.array(self.offsets, dtype=np.int64),
            purchase_times=np.array(self.times, dtype=np.int64),
            shipped_at=np.array(c["shipped_at"], dtype=np.int64),
            shipped_order=np.array(c["shipped_order"], dtype=np.int32),
            trouble_at=np.array(c["trouble_at"], dtype=np.int64),
            trouble_order=np.array(c["trouble_order"], dtype=np.int32),
            trouble_refunded=np.array(c["trouble_refunded"], dtype=np.bool_),
            flags=np.array(c["flags"], dtype=np.uint8),
            review_at=np.array(c["review_at"], dtype=np.int64),
            review_rating=np.array(c["review_rating"], dtype=np.int8),
            review_verified=np.array(c["review_verified"], dtype=np.bool_),
            review_product=np.array(c["review_product"], dtype=np.int32),
            signal_count=np.array(c["signal_count"], dtype=np.int32),
            signal_first=np.array(c["signal_first"], dtype=np.int64),
            signal_detail=np.array(c["signal_detail"], dtype=np.int32),
            known_since=np.array(c["known_since"], dtype=np.int64),
            orders_seen=np.array(c["orders_seen"], dtype=np.int32),
            order_refs=self.order_refs, texts=self.texts,
            preparing_since=np.array(c["preparing_since"], dtype=np.int64),
            fulfilment_days=np.array(self.fulfilment, dtype=np.float64),
        )


def _fulfilled_at(seen: OrderAsOf, now: datetime) -> datetime | None:
    """When a paid order was shipped or completed, if it was by ``now``: the first such step
    of its history, else its completion date, else (shipped, no history) its last change."""
    if seen.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return None
    order = seen.order
    for change in order.history:
        if change.at <= now and change.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            return change.at
    if order.completed_at is not None and order.completed_at <= now:
        return order.completed_at
    if seen.status is OrderStatus.SHIPPED:
        return seen.changed_at
    return None
