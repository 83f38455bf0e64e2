"""Builders for journey-model records in tests (no HTTP): small hand-made records
(:func:`customer`, :func:`order`, :func:`journey`, ...) and :func:`generated_shop`, a
deterministic random shop. Every test journey is built by :func:`journey`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from journeybridge.identity import touchpoints_for
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
    StatusChange,
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


# -- a generated shop ----------------------------------------------------------------------------

_STATUSES = list(OrderStatus)


def _when(rng: random.Random, now: datetime, low: float, high: float) -> datetime:
    return now - timedelta(days=rng.uniform(low, high), seconds=rng.randrange(86_400))


def _random_order(rng: random.Random, oid: int, created: datetime, now: datetime,
                  status: OrderStatus | None = None) -> Order:
    status = status or rng.choice(_STATUSES)
    paid = None
    if status.is_paid or (status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED)
                          and rng.random() < 0.6):
        paid = created + timedelta(minutes=rng.choice([0, 5, 600, 2000]))
    history: tuple[StatusChange, ...] = ()
    if rng.random() < 0.2:
        at, steps = created, []
        for step in rng.sample(_STATUSES, rng.randint(1, 4)):
            at += timedelta(days=rng.uniform(0, 10))
            steps.append(StatusChange(status=step, raw_status=step.value, at=at))
        history = tuple(steps)
    refunds: tuple[Refund, ...] = ()
    if rng.random() < 0.12:
        # dated before now (a later refund would not have counted before either)
        refunds = tuple(Refund(id=f"r{oid}-{k}", amount=Decimal(rng.choice(["1.00", "20"])),
                               at=min(created + timedelta(days=rng.uniform(0, 30)), now)
                               if rng.random() < 0.9 else None) for k in range(rng.randint(1, 2)))
    return Order(id=str(oid), number=rng.choice(["", f"N{oid}"]), status=status,
                 raw_status=status.value, currency="EUR", total=Decimal("49.95"),
                 created_at=created,
                 modified_at=created + timedelta(days=rng.uniform(0, 40))
                 if rng.random() < 0.9 else None,
                 paid_at=paid,
                 completed_at=created + timedelta(days=rng.uniform(0, 5))
                 if status is OrderStatus.DELIVERED and rng.random() < 0.8 else None,
                 refunds=refunds, history=history)


def generated_shop(seed: int, size: int, now: datetime) -> list[Journey]:
    """A deterministic shop of ``size`` people as of ``now``: repeat buyers on their own
    rhythms (who may stop), random orders in every status, carts, reviews and newsletter
    opt-ins. The same arguments give the same journeys on every machine."""
    rng = random.Random(seed)
    ids = iter(range(1000, 10_000_000))
    people = []
    for i in range(size):
        person = Person(shop="t", platform=Platform.WOOCOMMERCE, key=f"customer:{i}",
                        customer_id=str(i), email=f"p{i}@example.com",
                        registered_at=_when(rng, now, 0, 900) if rng.random() < 0.8 else None,
                        newsletter=NewsletterOptIn(subscribed=rng.random() < 0.8,
                                                   at=_when(rng, now, 0, 600))
                        if rng.random() < 0.3 else None)
        orders: list[Order] = []
        if rng.random() < 0.4:
            gap, age = rng.choice([7, 14, 30, 45, 90, 180]), rng.uniform(0, 1200)
            stop = rng.betavariate(0.8, 2.5)
            while age > 0 and len(orders) < 30 and rng.random() > stop:
                status = OrderStatus.DELIVERED if rng.random() < 0.9 else None
                orders.append(_random_order(rng, next(ids), _when(rng, now, age, age), now,
                                            status))
                age -= gap * rng.uniform(0.5, 1.6)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            orders.append(_random_order(rng, next(ids), _when(rng, now, 0, 1000), now))
        carts = [Cart(id=f"c{next(ids)}", customer_id=str(i), created_at=_when(rng, now, 0, 60),
                      lines=tuple(CartLine(product_id="7", quantity=1)
                                  for _ in range(rng.randint(0, 3))))
                 for _ in range(rng.choice([0, 0, 0, 1, 2]))]
        reviews = [Review(id=f"v{next(ids)}", product_id=str(rng.randint(1, 50)),
                          rating=rng.randint(0, 5), verified=rng.random() < 0.5,
                          approved=rng.random() < 0.85, created_at=_when(rng, now, 0, 500))
                   for _ in range(rng.choice([0, 0, 0, 1, 2]))]
        people.append(journey(person, orders, reviews, carts))
    return people
