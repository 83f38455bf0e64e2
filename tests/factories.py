"""Small builders for journey-model records in tests (no HTTP)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from journeybridge.journeys import touchpoints_for
from journeybridge.model import (
    Cart,
    CartLine,
    Journey,
    NewsletterOptIn,
    Order,
    OrderStatus,
    Person,
    Platform,
    Refund,
    Review,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def customer(cid: int = 1, *, email: str | None = None, registered_days_ago: float = 400,
             newsletter: bool = False) -> Person:
    return Person(
        shop="test", platform=Platform.WOOCOMMERCE, key=f"customer:{cid}", customer_id=str(cid),
        email=email or f"person{cid}@example.com", first_name="Test", last_name=f"P{cid}",
        registered_at=days_ago(registered_days_ago),
        newsletter=NewsletterOptIn(subscribed=True, at=days_ago(registered_days_ago))
        if newsletter else None,
    )


_order_ids = iter(range(1000, 10_000_000))


def order(days: float, status: OrderStatus = OrderStatus.DELIVERED, *, total: str = "50.00",
          customer_id: int | None = 1, email: str | None = None, raw: str | None = None,
          paid: bool | None = None, refunds: Sequence[tuple[str, float]] = (),
          modified_days: float | None = None) -> Order:
    created = days_ago(days)
    is_paid = status.is_paid or status is OrderStatus.REFUNDED if paid is None else paid
    return Order(
        id=str(next(_order_ids)), customer_id=str(customer_id) if customer_id else None,
        email=email, status=status, raw_status=raw or status.value, currency="EUR",
        total=Decimal(total), created_at=created,
        modified_at=days_ago(modified_days) if modified_days is not None else created
        + timedelta(hours=1),
        paid_at=created + timedelta(minutes=5) if is_paid else None,
        completed_at=created + timedelta(days=2) if status is OrderStatus.DELIVERED else None,
        refunds=tuple(Refund(id=f"r{i}", amount=Decimal(a), at=days_ago(d))
                      for i, (a, d) in enumerate(refunds)),
    )


def review(days: float, rating: int = 5, *, email: str | None = None,
           customer_id: int | None = 1) -> Review:
    return Review(id=str(next(_order_ids)), product_id="7", rating=rating, verified=True,
                  created_at=days_ago(days), email=email,
                  customer_id=str(customer_id) if customer_id else None)


def cart(days: float, *, customer_id: int = 1, order_id: str | None = None) -> Cart:
    return Cart(id=str(next(_order_ids)), customer_id=str(customer_id),
                created_at=days_ago(days), lines=(CartLine(product_id="7", quantity=1),),
                order_id=order_id)


def journey(person: Person | None = None, orders: Sequence[Order] = (),
            reviews: Sequence[Review] = (), carts: Sequence[Cart] = ()) -> Journey:
    person = person or customer()
    return Journey(person=person, orders=tuple(orders), carts=tuple(carts),
                   reviews=tuple(reviews),
                   touchpoints=touchpoints_for(person, orders, carts, reviews))
