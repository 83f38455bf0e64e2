"""The facts about one person that stage rules look at, as of a moment ``now``.

Nothing dated after ``now`` counts: orders placed later do not exist yet, an order's status is
the one it had at ``now`` (from its status history where the platform gives one, otherwise from
its payment, completion and last-change dates), and a refund dated after ``now`` has not
happened yet.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from journeybridge.model import Cart, Journey, Order, OrderStatus, Refund, Review

__all__ = ["OrderAsOf", "PersonFacts", "facts_of", "status_as_of"]


def status_as_of(order: Order, now: datetime) -> OrderStatus | None:
    """The status ``order`` had at ``now``; None when it did not exist yet."""
    if order.created_at > now:
        return None
    if order.history:
        reached = [c for c in order.history if c.at <= now]
        return reached[-1].status if reached else OrderStatus.CHECKOUT_STARTED
    final_known = order.modified_at is None or order.modified_at <= now
    if final_known:
        return order.status
    if order.completed_at is not None and order.completed_at <= now:
        return OrderStatus.DELIVERED
    if order.paid_at is not None and order.paid_at <= now:
        return OrderStatus.PAID
    if order.status is OrderStatus.CHECKOUT_STARTED:
        return OrderStatus.CHECKOUT_STARTED
    return OrderStatus.PENDING_PAYMENT


def _paid_at(order: Order, now: datetime) -> datetime | None:
    """When the order was paid, if it was by ``now``."""
    if order.history:
        for change in order.history:
            if change.at <= now and change.status.is_paid:
                return change.at
        return None
    if order.paid_at is not None and order.paid_at <= now:
        return order.paid_at
    return None


@dataclass(frozen=True)
class OrderAsOf:
    """An order seen at ``now``: its status then, when it was paid (if it was), when its status
    last changed, and the refunds made by then (undated refunds count: their date is unknown,
    not later)."""

    order: Order
    status: OrderStatus
    paid_at: datetime | None
    changed_at: datetime
    refunds: tuple[Refund, ...] = ()

    @property
    def refunded_amount(self) -> Decimal:
        """The sum of the refunds made by ``now``."""
        return sum((r.amount for r in self.refunds), Decimal("0"))


@dataclass(frozen=True)
class PersonFacts:
    """What the rules know about a person at ``now``."""

    now: datetime
    known_since: datetime | None
    orders: tuple[OrderAsOf, ...]
    purchase_days: tuple[date, ...]
    purchase_times: tuple[datetime, ...]
    total_spent: Decimal
    open_carts: tuple[Cart, ...]
    reviews: tuple[Review, ...]
    subscribed: bool

    @property
    def purchases(self) -> int:
        """Distinct days with a paid order (same-day orders count once)."""
        return len(self.purchase_days)

    @property
    def first_purchase(self) -> datetime | None:
        """When the first purchase was paid."""
        return self.purchase_times[0] if self.purchase_times else None

    @property
    def last_purchase(self) -> datetime | None:
        """When the latest purchase was paid."""
        return self.purchase_times[-1] if self.purchase_times else None

    @property
    def days_since_last_purchase(self) -> float | None:
        """Days between the latest purchase and ``now``."""
        last = self.last_purchase
        return (self.now - last) / timedelta(days=1) if last else None

    def gaps_days(self) -> list[float]:
        """Days between consecutive purchase days."""
        days = self.purchase_days
        return [float((b - a).days) for a, b in itertools.pairwise(days)]


def facts_of(journey: Journey, now: datetime) -> PersonFacts:
    """The facts of ``journey`` at ``now`` (timezone-aware)."""
    orders: list[OrderAsOf] = []
    purchase_times: dict[date, datetime] = {}
    spent = Decimal("0")
    for order in journey.orders:
        status = status_as_of(order, now)
        if status is None:
            continue
        paid = _paid_at(order, now)
        if paid is None and status.is_paid:
            paid = order.created_at
        changed = order.created_at
        if order.history:
            changed = max([c.at for c in order.history if c.at <= now], default=changed)
        elif order.modified_at is not None and order.modified_at <= now:
            changed = order.modified_at
        refunds = tuple(r for r in order.refunds if r.at is None or r.at <= now)
        seen = OrderAsOf(order=order, status=status, paid_at=paid, changed_at=changed,
                         refunds=refunds)
        orders.append(seen)
        if status.is_paid and paid is not None:
            day = paid.date()
            if day not in purchase_times or paid < purchase_times[day]:
                purchase_times[day] = paid
            spent += order.total - seen.refunded_amount
    ordered_carts = {o.order.cart_id for o in orders if o.order.cart_id}
    open_carts = tuple(c for c in journey.carts
                       if c.created_at <= now and not c.order_id and c.id not in ordered_carts
                       and c.lines)
    reviews = tuple(r for r in journey.reviews if r.created_at <= now)
    person = journey.person
    subscribed = bool(person.newsletter and person.newsletter.subscribed
                      and (person.newsletter.at is None or person.newsletter.at <= now))
    known = [t.at for t in journey.touchpoints if t.at <= now]
    days = sorted(purchase_times)
    return PersonFacts(
        now=now,
        known_since=min(known) if known else None,
        orders=tuple(sorted(orders, key=lambda o: (o.order.created_at, o.order.id))),
        purchase_days=tuple(days),
        purchase_times=tuple(purchase_times[d] for d in days),
        total_spent=spent,
        open_carts=open_carts,
        reviews=reviews,
        subscribed=subscribed,
    )
