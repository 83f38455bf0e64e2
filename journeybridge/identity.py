"""Who is who, for both platforms, and the journeys a person's records add up to.

Adapters hand in model records: :class:`Person` rows for accounts and, on PrestaShop, for guest
checkouts (``is_guest=True``, ``customer_id`` the row's id: PrestaShop makes one row per guest
order), :class:`Order`, :class:`Cart` and :class:`Review` records, and :class:`RefundRecord`
rows (refunds read on their own, which give a refund its date and amount). The identity rule:

* an account is ``customer:<id>``;
* anyone else known by an e-mail address is ``guest:<normalized e-mail>``, unless an account
  has that e-mail (case-insensitive), in which case they are that account (a guest who
  registered later is one person); with several accounts on one e-mail, the oldest (lowest id)
  is the one;
* a guest checkout row belongs to the person of its e-mail; an order, cart or review that names
  a customer row belongs to that row's person; an order or review naming no known row falls
  back to its e-mail; a reviewer known only by an e-mail is a guest too;
* carts of unknown visitors and records with no usable identity are counted, never invented
  into people.

:class:`Resolver` applies the rule to records' handles (customer id, e-mail); the sync engine
uses it on the rows it keeps in its store, and :func:`assemble` on records in memory, so the
rule is written once. :func:`assemble` is pure and does not depend on the input order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from journeybridge.model import (
    Cart,
    Journey,
    Money,
    NewsletterOptIn,
    Order,
    OrderStatus,
    Person,
    Platform,
    Refund,
    RefundRecord,
    Review,
    SourceRef,
    Touchpoint,
    TouchpointKind,
)

__all__ = [
    "Assembly",
    "Handles",
    "Resolver",
    "assemble",
    "guest_key",
    "id_order",
    "touchpoints_for",
]

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
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def id_order(record_id: str | None) -> tuple[int, str]:
    """A sort key that orders numeric ids as numbers (``"9"`` before ``"10"``) without
    converting them (a 5,000-digit id stays a string), and any other id after, as text."""
    text = record_id or ""
    return (len(text), text) if text.isdigit() and text.isascii() else (1 << 30, text)


def guest_key(email: str) -> str:
    """The key of a guest known by ``email`` (already normalized)."""
    return f"guest:{email}"


@dataclass(frozen=True)
class Handles:
    """What a record says about whose it is: the customer row it names and the e-mail it
    carries (normalized), and, for a customer row, whether it is a guest checkout row."""

    customer_id: str | None = None
    email: str | None = None
    person_row: bool = False
    guest_row: bool = False

    @classmethod
    def of(cls, record: Person | Order | Cart | Review | RefundRecord) -> Handles:
        """The handles of one model record (refund records name an order, not a person:
        they have none)."""
        if isinstance(record, Person):
            return cls(record.customer_id, record.email, person_row=True,
                       guest_row=record.is_guest)
        if isinstance(record, Order | Review):
            return cls(record.customer_id, record.email)
        if isinstance(record, Cart):
            return cls(record.customer_id, None)
        return cls()


class Resolver:
    """The identity rule over customer rows: built from the rows (accounts and guest rows) of
    the people concerned, it says whose a record is. Exact for any record whose customer id
    and e-mail rows were all given (the sync engine loads exactly those)."""

    def __init__(self, rows: Iterable[Handles]) -> None:
        accounts: dict[str, str | None] = {}
        guest_rows: dict[str, str | None] = {}
        for row in rows:
            if not row.person_row or not row.customer_id:
                continue
            (guest_rows if row.guest_row else accounts)[row.customer_id] = row.email
        self.accounts = accounts
        self.guest_rows = guest_rows
        first: dict[str, str] = {}
        for customer_id in sorted(accounts, key=id_order):
            email = accounts[customer_id]
            if email and email not in first:
                first[email] = customer_id
        self.account_of_email = first

    def of_email(self, email: str | None) -> str | None:
        """The person known by ``email``: its account, else the guest."""
        if not email:
            return None
        account = self.account_of_email.get(email)
        return f"customer:{account}" if account else guest_key(email)

    def owner(self, handles: Handles, *, kind: str = "order") -> str | None:
        """The person key a record belongs to, or None (no usable identity). ``kind`` is the
        record kind: a cart follows its customer row only; orders and reviews fall back to
        their e-mail."""
        if handles.person_row:
            if not handles.customer_id:
                return None
            if not handles.guest_row:
                return f"customer:{handles.customer_id}"
            return self.of_email(handles.email)
        customer_id = handles.customer_id
        if customer_id:
            if customer_id in self.accounts:
                return f"customer:{customer_id}"
            if customer_id in self.guest_rows:
                return self.of_email(self.guest_rows[customer_id])
        if kind == "cart":
            return None
        return self.of_email(handles.email)


@dataclass
class Assembly:
    """The journeys of a shop (sorted by key), the customer rows behind each person (the
    account's own row; every guest row of a pure guest), and the records that could not be
    tied to a person."""

    journeys: list[Journey]
    rows: dict[str, list[Person]] = field(default_factory=dict)
    orders_without_person: int = 0
    anonymous_carts: int = 0
    reviews_without_person: int = 0
    guests_merged_into_customers: int = 0
    notes: list[str] = field(default_factory=list)


def _guest_from_rows(email: str, rows: Sequence[Person]) -> Person:
    """One guest made of all their guest rows: names of the latest row, first seen, last
    changed, subscribed if any row is, partner opt-in if any row has it."""
    latest = max(rows, key=lambda p: (p.registered_at or _EPOCH, id_order(p.customer_id)))
    added = [p.registered_at for p in rows if p.registered_at]
    changed = [p.modified_at for p in rows if p.modified_at]
    subscribed = [p.newsletter for p in rows if p.newsletter and p.newsletter.subscribed]
    dated = [n.at for n in subscribed if n.at is not None]
    newsletter = (NewsletterOptIn(subscribed=True, at=min(dated) if dated else None)
                  if subscribed else NewsletterOptIn(subscribed=False))
    optin = "1" if any(p.meta.get("optin") == "1" for p in rows) else "0"
    return latest.model_copy(update={
        "key": guest_key(email), "is_guest": True, "email": email, "roles": ("guest",),
        "registered_at": min(added) if added else None,
        "modified_at": max(changed) if changed else None, "newsletter": newsletter,
        "meta": {"optin": optin}, "groups": (), "customer_id": None})


def _guest_from_order(shop: str, platform: Platform, email: str, order: Order) -> Person:
    """A guest known from their (latest) order's billing details."""
    return Person(shop=shop, platform=platform, key=guest_key(email), is_guest=True,
                  email=email, first_name=order.billing_first_name,
                  last_name=order.billing_last_name, phone=order.billing_phone,
                  city=order.billing_city, state=order.billing_state,
                  postcode=order.billing_postcode, country=order.billing_country)


def _guest_from_review(shop: str, platform: Platform, email: str, review: Review) -> Person:
    """A guest known only from a product review they wrote."""
    first, _, last = review.reviewer.partition(" ")
    return Person(shop=shop, platform=platform, key=guest_key(email), is_guest=True,
                  email=email, first_name=first, last_name=last)


def _with_refunds(order: Order, refunds: Sequence[RefundRecord]) -> Order:
    """``order`` with what the refund records say: a known refund gets its date (and amount),
    a refund the order does not list is added."""
    by_id = {r.id: r for r in refunds}
    merged: list[Refund] = []
    for refund in order.refunds:
        record = by_id.pop(refund.id, None)
        if record is None:
            merged.append(refund)
        else:
            merged.append(refund.model_copy(update={
                "at": record.at or refund.at, "amount": record.amount,
                "reason": refund.reason or record.reason}))
    merged.extend(Refund(id=r.id, amount=r.amount, reason=r.reason, at=r.at)
                  for r in sorted(by_id.values(), key=lambda r: id_order(r.id)))
    return order.model_copy(update={"refunds": tuple(merged)})


def assemble(
    shop: str,
    platform: Platform,
    customers: Iterable[Person],
    orders: Iterable[Order],
    carts: Iterable[Cart] = (),
    reviews: Iterable[Review] = (),
    refunds: Iterable[RefundRecord] = (),
    *,
    anonymous_carts: int = 0,
) -> Assembly:
    """One journey per person from a shop's records, by the identity rule of the module
    docstring. Orders get the dates and amounts of their refund records; a cart that an order
    points to (``Order.cart_id``) is marked ordered. ``anonymous_carts`` (carts of unknown
    visitors, counted by the adapter, never read) is added to the count. Pure; the result is
    sorted by key and does not depend on the order of the input."""
    customers = sorted(customers, key=lambda p: (id_order(p.customer_id), p.key))
    resolver = Resolver(Handles.of(p) for p in customers)
    result = Assembly(journeys=[], anonymous_carts=anonymous_carts)

    people: dict[str, Person] = {}
    rows: dict[str, list[Person]] = {}
    guest_rows: dict[str, list[Person]] = {}
    merged: set[str] = set()
    for row in customers:
        key = resolver.owner(Handles.of(row))
        if key is None:
            continue
        if not row.is_guest:
            people[key] = row
            rows[key] = [row]
        elif key.startswith("guest:"):
            guest_rows.setdefault(key, []).append(row)
        elif row.email:
            merged.add(row.email)
    for key, group in guest_rows.items():
        people[key] = _guest_from_rows(key.removeprefix("guest:"), group)
        rows[key] = group

    refunds_of: dict[str, list[RefundRecord]] = {}
    for refund in refunds:
        refunds_of.setdefault(refund.order_id, []).append(refund)

    orders_of: dict[str, list[Order]] = {}
    all_orders = sorted(orders, key=lambda o: (o.created_at, id_order(o.id)))
    for order in all_orders:
        key = resolver.owner(Handles.of(order))
        if key is None:
            result.orders_without_person += 1
            continue
        if order.id in refunds_of:
            order = _with_refunds(order, refunds_of[order.id])
        if key.startswith("customer:") and order.customer_id is None and order.email:
            merged.add(order.email)
        if key.startswith("guest:") and key not in guest_rows:
            # the latest order's billing details describe a guest best
            people[key] = _guest_from_order(shop, platform, key.removeprefix("guest:"), order)
        orders_of.setdefault(key, []).append(order)

    ordered = {o.cart_id: o.id for o in all_orders if o.cart_id}
    carts_of: dict[str, list[Cart]] = {}
    for cart in carts:
        key = resolver.owner(Handles.of(cart), kind="cart")
        if key is None or key not in people:
            result.anonymous_carts += 1
            continue
        if cart.id in ordered and cart.order_id != ordered[cart.id]:
            cart = cart.model_copy(update={"order_id": ordered[cart.id]})
        account = key.removeprefix("customer:") if key.startswith("customer:") else None
        if account and cart.customer_id != account:  # a guest row's cart, now the account's
            cart = cart.model_copy(update={"customer_id": account})
        carts_of.setdefault(key, []).append(cart)

    reviews_of: dict[str, list[Review]] = {}
    for review in sorted(reviews, key=lambda r: (r.created_at, id_order(r.id))):
        key = resolver.owner(Handles.of(review), kind="review")
        if key is None:
            result.reviews_without_person += 1
            continue
        if key not in people and review.email:
            people[key] = _guest_from_review(shop, platform, review.email, review)
        reviews_of.setdefault(key, []).append(review)

    result.guests_merged_into_customers = len(merged)
    result.rows = rows
    for key in sorted(people):
        person = people[key]
        person_orders = tuple(orders_of.get(key, ()))
        person_carts = tuple(sorted(carts_of.get(key, ()), key=lambda c: (c.created_at,
                                                                           id_order(c.id))))
        person_reviews = tuple(reviews_of.get(key, ()))
        result.journeys.append(Journey(
            person=person, orders=person_orders, carts=person_carts, reviews=person_reviews,
            touchpoints=touchpoints_for(person, person_orders, person_carts, person_reviews)))
    return result


# -- touchpoints ---------------------------------------------------------------------------------

def _order_touchpoints(order: Order, platform: Platform) -> list[Touchpoint]:
    source = order.source or SourceRef(platform=platform, resource="order", id=order.id)
    money = Money(amount=order.total, currency=order.currency)
    label = f"order {order.number or order.id}"
    points: list[Touchpoint] = []
    if order.history:
        for change in order.history:
            kind = _STATUS_TOUCHPOINT[change.status]
            amount = money if kind is TouchpointKind.PAID else None
            points.append(Touchpoint(kind=kind, at=change.at, amount=amount, source=source,
                                     detail=f"{label}: {change.raw_status}"))
    else:
        points.append(Touchpoint(kind=TouchpointKind.CHECKOUT_STARTED, at=order.created_at,
                                 source=source, detail=f"{label} created ({order.raw_status})"))
        if order.paid_at is not None:
            points.append(Touchpoint(kind=TouchpointKind.PAID, at=order.paid_at, amount=money,
                                     source=source, detail=f"{label} paid"))
        if order.completed_at is not None:
            points.append(Touchpoint(kind=TouchpointKind.DELIVERED, at=order.completed_at,
                                     source=source, detail=f"{label} completed"))
        final = _STATUS_TOUCHPOINT[order.status]
        if final in (TouchpointKind.CANCELLED, TouchpointKind.PAYMENT_FAILED,
                     TouchpointKind.SHIPPED, TouchpointKind.ON_HOLD):
            at = order.modified_at or order.created_at
            points.append(Touchpoint(kind=final, at=at, source=source,
                                     detail=f"{label} {order.raw_status}"))
    for refund in order.refunds:
        at = refund.at or order.modified_at or order.created_at
        points.append(Touchpoint(kind=TouchpointKind.REFUNDED, at=at,
                                 amount=Money(amount=refund.amount, currency=order.currency),
                                 source=source, detail=f"{label} refund {refund.id}"))
    if order.status is OrderStatus.REFUNDED and not order.refunds and not order.history:
        points.append(Touchpoint(kind=TouchpointKind.REFUNDED,
                                 at=order.modified_at or order.created_at, source=source,
                                 detail=f"{label} refunded"))
    return points


def touchpoints_for(
    person: Person, orders: Iterable[Order], carts: Iterable[Cart], reviews: Iterable[Review]
) -> tuple[Touchpoint, ...]:
    """Every touchpoint of one person, sorted by time (ties broken by kind, then record)."""
    platform = person.platform
    source = person.source or SourceRef(platform=platform, resource="customer",
                                        id=person.customer_id or person.key)
    points: list[Touchpoint] = []
    if person.registered_at is not None and not person.is_guest:
        points.append(Touchpoint(kind=TouchpointKind.REGISTERED, at=person.registered_at,
                                 source=source, detail="account created"))
    if person.newsletter and person.newsletter.subscribed and person.newsletter.at is not None:
        points.append(Touchpoint(kind=TouchpointKind.SUBSCRIBED, at=person.newsletter.at,
                                 source=source, detail="newsletter opt-in"))
    for order in orders:
        points.extend(_order_touchpoints(order, platform))
    for cart in carts:
        cart_source = cart.source or SourceRef(platform=platform, resource="cart", id=cart.id)
        state = f"ordered as {cart.order_id}" if cart.order_id else "no order"
        points.append(Touchpoint(kind=TouchpointKind.CART, at=cart.updated_at or cart.created_at,
                                 source=cart_source,
                                 detail=f"cart {cart.id} ({len(cart.lines)} lines, {state})"))
    for review in reviews:
        review_source = review.source or SourceRef(platform=platform, resource="review",
                                                   id=review.id)
        points.append(Touchpoint(kind=TouchpointKind.REVIEWED, at=review.created_at,
                                 source=review_source,
                                 detail=f"review of "
                                        f"{review.product_name or 'product ' + review.product_id}"
                                        f": {review.rating}/5"))
    points.sort(key=lambda t: (t.at, _KIND_RANK[t.kind], t.source.resource, t.source.id))
    return tuple(points)


def journeys_by_key(assembly: Assembly) -> Mapping[str, Journey]:
    """The assembly's journeys by person key."""
    return {j.key: j for j in assembly.journeys}
