"""Assembling journeys: who is who (registered customers, guests, merges) and the touchpoints
each person's records add up to. Platform-neutral: adapters hand in model records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from journeybridge.model import (
    Cart,
    Journey,
    Money,
    Order,
    OrderStatus,
    Person,
    Platform,
    Review,
    SourceRef,
    Touchpoint,
    TouchpointKind,
)

__all__ = ["Assembly", "assemble_journeys", "guest_person", "touchpoints_for"]

_STATUS_TOUCHPOINT: dict[OrderStatus, TouchpointKind] = {
    OrderStatus.CHECKOUT_STARTED: TouchpointKind.CHECKOUT_STARTED,
    OrderStatus.PENDING_PAYMENT: TouchpointKind.CHECKOUT_STARTED,
    OrderStatus.ON_HOLD: TouchpointKind.ON_HOLD,
    OrderStatus.PAID: TouchpointKind.PAID,
    OrderStatus.SHIPPED: TouchpointKind.SHIPPED,
    OrderStatus.DELIVERED: TouchpointKind.DELIVERED,
    OrderStatus.CANCELLED: TouchpointKind.CANCELLED,
    OrderStatus.REFUNDED: TouchpointKind.REFUNDED,
    OrderStatus.FAILED: TouchpointKind.PAYMENT_FAILED,
}

_KIND_RANK = {kind: rank for rank, kind in enumerate(TouchpointKind)}


@dataclass
class Assembly:
    """The journeys of a shop, and the records that could not be tied to a person."""

    journeys: list[Journey]
    orders_without_person: int = 0
    anonymous_carts: int = 0
    reviews_without_person: int = 0
    guests_merged_into_customers: int = 0
    notes: list[str] = field(default_factory=list)


def guest_person(shop: str, platform: Platform, order: Order) -> Person | None:
    """The guest person an order without a customer account stands for, keyed by its
    normalized billing e-mail; None when the order has no usable e-mail."""
    if order.email is None:
        return None
    return Person(
        shop=shop,
        platform=platform,
        key=f"guest:{order.email}",
        is_guest=True,
        email=order.email,
        first_name=order.billing_first_name,
        last_name=order.billing_last_name,
        phone=order.billing_phone,
        city=order.billing_city,
        state=order.billing_state,
        postcode=order.billing_postcode,
        country=order.billing_country,
    )


def _order_touchpoints(order: Order) -> list[Touchpoint]:
    source = order.source or SourceRef(platform=Platform.WOOCOMMERCE, resource="order", id=order.id)
    money = Money(amount=order.total, currency=order.currency)
    points: list[Touchpoint] = []
    if order.history:
        for change in order.history:
            kind = _STATUS_TOUCHPOINT[change.status]
            amount = money if kind is TouchpointKind.PAID else None
            points.append(
                Touchpoint(kind=kind, at=change.at, amount=amount, source=source,
                           detail=f"order {order.number or order.id}: {change.raw_status}")
            )
    else:
        label = f"order {order.number or order.id}"
        points.append(
            Touchpoint(kind=TouchpointKind.CHECKOUT_STARTED, at=order.created_at, source=source,
                       detail=f"{label} created ({order.raw_status})")
        )
        if order.paid_at is not None:
            points.append(
                Touchpoint(kind=TouchpointKind.PAID, at=order.paid_at, amount=money,
                           source=source, detail=f"{label} paid")
            )
        if order.completed_at is not None:
            points.append(
                Touchpoint(kind=TouchpointKind.DELIVERED, at=order.completed_at, source=source,
                           detail=f"{label} completed")
            )
        final = _STATUS_TOUCHPOINT[order.status]
        if final in (TouchpointKind.CANCELLED, TouchpointKind.PAYMENT_FAILED,
                     TouchpointKind.SHIPPED, TouchpointKind.ON_HOLD):
            at = order.modified_at or order.created_at
            points.append(Touchpoint(kind=final, at=at, source=source,
                                     detail=f"{label} {order.raw_status}"))
    for refund in order.refunds:
        at = refund.at or order.modified_at or order.created_at
        points.append(
            Touchpoint(kind=TouchpointKind.REFUNDED, at=at,
                       amount=Money(amount=refund.amount, currency=order.currency),
                       source=source, detail=f"order {order.number or order.id} refund {refund.id}")
        )
    if order.status is OrderStatus.REFUNDED and not order.refunds and not order.history:
        points.append(Touchpoint(kind=TouchpointKind.REFUNDED,
                                 at=order.modified_at or order.created_at, source=source,
                                 detail=f"order {order.number or order.id} refunded"))
    return points


def touchpoints_for(
    person: Person, orders: Iterable[Order], carts: Iterable[Cart], reviews: Iterable[Review]
) -> tuple[Touchpoint, ...]:
    """Every touchpoint of one person, sorted by time (ties broken by kind, then record)."""
    source = person.source or SourceRef(platform=person.platform, resource="customer",
                                        id=person.customer_id or person.key)
    points: list[Touchpoint] = []
    if person.registered_at is not None and not person.is_guest:
        points.append(Touchpoint(kind=TouchpointKind.REGISTERED, at=person.registered_at,
                                 source=source, detail="account created"))
    if person.newsletter and person.newsletter.subscribed and person.newsletter.at is not None:
        points.append(Touchpoint(kind=TouchpointKind.SUBSCRIBED, at=person.newsletter.at,
                                 source=source, detail="newsletter opt-in"))
    for order in orders:
        points.extend(_order_touchpoints(order))
    for cart in carts:
        cart_source = cart.source or SourceRef(platform=person.platform, resource="cart",
                                               id=cart.id)
        state = f"ordered as {cart.order_id}" if cart.order_id else "no order"
        points.append(Touchpoint(kind=TouchpointKind.CART, at=cart.updated_at or cart.created_at,
                                 source=cart_source,
                                 detail=f"cart {cart.id} ({len(cart.lines)} lines, {state})"))
    for review in reviews:
        review_source = review.source or SourceRef(platform=person.platform, resource="review",
                                                   id=review.id)
        points.append(Touchpoint(kind=TouchpointKind.REVIEWED, at=review.created_at,
                                 source=review_source,
                                 detail=f"review of product {review.product_id}: "
                                        f"{review.rating}/5"))
    points.sort(key=lambda t: (t.at, _KIND_RANK[t.kind], t.source.resource, t.source.id))
    return tuple(points)


def assemble_journeys(
    shop: str,
    platform: Platform,
    customers: Iterable[Person],
    orders: Iterable[Order],
    carts: Iterable[Cart] = (),
    reviews: Iterable[Review] = (),
) -> Assembly:
    """Group records into one journey per person.

    Identity rules: a registered customer is ``customer:<id>``; an order without an account
    belongs to ``guest:<normalized e-mail>``, unless a registered customer has that e-mail
    (case-insensitive), in which case it joins that customer (a guest who later registered is
    one person). An order whose account is unknown to the pull falls back to its e-mail.
    Reviews link by customer id, else by e-mail. Carts of unknown visitors and records with no
    usable identity are counted, never invented into people. The result is sorted by key, so
    it does not depend on the input order.
    """
    people: dict[str, Person] = {}
    by_email: dict[str, str] = {}
    for person in sorted(customers, key=lambda p: (int(p.customer_id or 0), p.key)):
        people[person.key] = person
        if person.email and person.email not in by_email:
            by_email[person.email] = person.key

    orders_of: dict[str, list[Order]] = {}
    carts_of: dict[str, list[Cart]] = {}
    reviews_of: dict[str, list[Review]] = {}
    result = Assembly(journeys=[])
    merged: set[str] = set()

    for order in sorted(orders, key=lambda o: (o.created_at, o.id)):
        key = f"customer:{order.customer_id}" if order.customer_id else None
        if key is None or key not in people:
            key = by_email.get(order.email) if order.email else None
            if key is not None and order.customer_id is None and order.email is not None:
                merged.add(order.email)
        if key is None:
            guest = guest_person(shop, platform, order)
            if guest is None:
                result.orders_without_person += 1
                continue
            # the latest order's billing details describe the guest best
            people[guest.key] = guest
            key = guest.key
        orders_of.setdefault(key, []).append(order)

    for cart in carts:
        key = f"customer:{cart.customer_id}" if cart.customer_id else None
        if key is None or key not in people:
            result.anonymous_carts += 1
            continue
        carts_of.setdefault(key, []).append(cart)

    for review in reviews:
        key = f"customer:{review.customer_id}" if review.customer_id else None
        if key is None or key not in people:
            if review.email is None:
                key = None
            else:
                key = by_email.get(review.email) or (
                    f"guest:{review.email}" if f"guest:{review.email}" in people else None
                )
        if key is None:
            result.reviews_without_person += 1
            continue
        reviews_of.setdefault(key, []).append(review)

    result.guests_merged_into_customers = len(merged)
    for key in sorted(people):
        person = people[key]
        person_orders = tuple(orders_of.get(key, ()))
        person_carts = tuple(sorted(carts_of.get(key, ()), key=lambda c: (c.created_at, c.id)))
        person_reviews = tuple(sorted(reviews_of.get(key, ()),
                                      key=lambda r: (r.created_at, r.id)))
        result.journeys.append(
            Journey(
                person=person,
                orders=person_orders,
                carts=person_carts,
                reviews=person_reviews,
                touchpoints=touchpoints_for(person, person_orders, person_carts, person_reviews),
            )
        )
    return result
