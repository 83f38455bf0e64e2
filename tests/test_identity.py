"""Who is who, on both platforms: guests keyed by e-mail, merged into accounts of the same
e-mail, PrestaShop guest rows, refunds read on their own, orphans counted; and the Resolver the
sync engine uses on stored rows decides exactly as assemble() does."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from journeybridge.identity import Handles, Resolver, assemble, id_order
from journeybridge.model import (
    Cart,
    Order,
    OrderStatus,
    Person,
    Platform,
    RefundRecord,
    TouchpointKind,
)
from tests.factories import NOW, cart, customer, order, review


def test_guest_orders_with_different_case_are_one_person() -> None:
    orders = [order(30, customer_id=None, email="ANNA.GAST@EXAMPLE.COM"),
              order(20, customer_id=None, email="anna.gast@example.com"),
              order(10, customer_id=None, email=" Anna.Gast@Example.com ")]
    result = assemble("s", Platform.WOOCOMMERCE, [], orders)
    assert [j.key for j in result.journeys] == ["guest:anna.gast@example.com"]
    assert len(result.journeys[0].orders) == 3
    assert result.journeys[0].person.is_guest


def test_guest_who_later_registered_is_one_person() -> None:
    anna = customer(5, email="Anna@Example.com", registered_days_ago=5)
    orders = [order(100, customer_id=None, email="anna@example.com"),
              order(3, customer_id=5)]
    result = assemble("s", Platform.WOOCOMMERCE, [anna], orders)
    assert [j.key for j in result.journeys] == ["customer:5"]
    assert len(result.journeys[0].orders) == 2
    assert result.guests_merged_into_customers == 1


def test_records_without_identity_are_counted_not_invented() -> None:
    result = assemble(
        "s", Platform.WOOCOMMERCE, [customer(1)],
        [order(5, customer_id=None, email=None)],
        carts=[cart(2, customer_id=99)],
        reviews=[review(1, email=None, customer_id=None)],
    )
    assert [j.key for j in result.journeys] == ["customer:1"]
    assert result.orders_without_person == 1
    assert result.anonymous_carts == 1
    assert result.reviews_without_person == 1


def test_a_reviewer_known_only_by_email_is_a_guest() -> None:
    stranger = review(1, email="Stranger@Example.com", customer_id=None).model_copy(
        update={"reviewer": "Sam Stranger"})
    result = assemble("s", Platform.WOOCOMMERCE, [customer(1)], [], reviews=[stranger])
    assert [j.key for j in result.journeys] == ["customer:1", "guest:stranger@example.com"]
    guest = result.journeys[1]
    assert guest.person.is_guest and guest.person.first_name == "Sam"
    assert [t.kind for t in guest.touchpoints] == [TouchpointKind.REVIEWED]
    assert result.reviews_without_person == 0


def test_reviews_link_by_email_case_insensitively() -> None:
    result = assemble("s", Platform.WOOCOMMERCE,
                               [customer(1, email="lotte@example.com")], [],
                               reviews=[review(3, email="LOTTE@example.com", customer_id=None)])
    assert len(result.journeys[0].reviews) == 1


def test_order_of_unknown_account_falls_back_to_its_email() -> None:
    result = assemble("s", Platform.WOOCOMMERCE, [],
                               [order(5, customer_id=77, email="deleted@example.com")])
    assert [j.key for j in result.journeys] == ["guest:deleted@example.com"]


def test_touchpoints_are_ordered_and_typed() -> None:
    refunded = order(40, OrderStatus.DELIVERED, refunds=[("5.00", 35)])
    result = assemble("s", Platform.WOOCOMMERCE, [customer(1, newsletter=True)],
                               [order(10, OrderStatus.FAILED, paid=False), refunded],
                               reviews=[review(20, 5)])
    points = result.journeys[0].touchpoints
    assert [p.at for p in points] == sorted(p.at for p in points)
    kinds = [p.kind for p in points]
    assert kinds[0] is TouchpointKind.REGISTERED
    for kind in (TouchpointKind.SUBSCRIBED, TouchpointKind.PAID, TouchpointKind.DELIVERED,
                 TouchpointKind.REFUNDED, TouchpointKind.REVIEWED,
                 TouchpointKind.PAYMENT_FAILED, TouchpointKind.CHECKOUT_STARTED):
        assert kind in kinds, kind
    paid = next(p for p in points if p.kind is TouchpointKind.PAID)
    assert paid.amount is not None and str(paid.amount) == "50.00 EUR"
    assert all(p.at <= NOW for p in points)


def test_result_does_not_depend_on_input_order() -> None:
    people = [customer(i) for i in range(1, 6)]
    orders = [order(10 * i, customer_id=i) for i in range(1, 6)]
    orders += [order(3, customer_id=None, email="g@example.com")]
    a = assemble("s", Platform.WOOCOMMERCE, people, orders)
    b = assemble("s", Platform.WOOCOMMERCE, people[::-1], orders[::-1])
    assert a.journeys == b.journeys


# -- PrestaShop guest rows, refund records, the Resolver -----------------------------------------

def _row(cid: str, email: str, guest: bool = False, day: int = 1) -> Person:
    when = datetime(2025, 1, day, tzinfo=timezone.utc)
    key = f"guest:{email}" if guest else f"customer:{cid}"
    return Person(shop="s", platform=Platform.PRESTASHOP, key=key, customer_id=cid,
                  is_guest=guest, email=email, first_name=f"F{cid}", last_name="L",
                  registered_at=when, modified_at=when, groups=("2",) if guest else ("3",))


def _presta_order(oid: str, customer_id: str | None, email: str, cart_id: str) -> Order:
    return Order(id=oid, customer_id=customer_id, email=email, status=OrderStatus.PAID,
                 raw_status="Payment accepted", currency="EUR", total=Decimal("10"),
                 created_at=datetime(2025, 2, int(oid), tzinfo=timezone.utc), cart_id=cart_id)


PEOPLE = [_row("1", "anna@example.com"), _row("5", "gast@example.com", True, 1),
          _row("6", "gast@example.com", True, 2), _row("7", "anna@example.com", True, 3)]
ORDERS = [_presta_order("1", "1", "anna@example.com", "10"),
          _presta_order("2", None, "gast@example.com", "11"),
          _presta_order("3", None, "gast@example.com", "12"),
          _presta_order("4", None, "anna@example.com", "13")]
CARTS = [Cart(id=c, customer_id=rid, created_at=datetime(2025, 3, 1, tzinfo=timezone.utc))
         for c, rid in (("10", "1"), ("11", "5"), ("14", "6"), ("13", "7"), ("15", None),
                        ("16", "99"))]


def test_guest_rows_merge_by_email_and_a_registered_guest_is_the_account() -> None:
    result = assemble("s", Platform.PRESTASHOP, PEOPLE, ORDERS, CARTS)
    by_key = {j.key: j for j in result.journeys}
    assert set(by_key) == {"customer:1", "guest:gast@example.com"}
    anna, gast = by_key["customer:1"], by_key["guest:gast@example.com"]
    assert [o.id for o in anna.orders] == ["1", "4"]
    assert [o.id for o in gast.orders] == ["2", "3"]
    assert sorted(c.id for c in anna.carts) == ["10", "13"]
    assert {c.customer_id for c in anna.carts} == {"1"}  # the guest row's cart is the account's
    assert {c.id: c.order_id for c in gast.carts} == {"11": "2", "14": None}
    assert gast.person.first_name == "F6" and gast.person.customer_id is None
    assert result.anonymous_carts == 2 and result.guests_merged_into_customers == 1
    assert [r.customer_id for r in result.rows["guest:gast@example.com"]] == ["5", "6"]
    assert [r.customer_id for r in result.rows["customer:1"]] == ["1"]


def test_refund_records_date_the_refunds_of_their_order() -> None:
    paid = order(30, OrderStatus.DELIVERED, refunds=[("5.00", 20)])
    undated = paid.model_copy(update={"refunds": (paid.refunds[0].model_copy(
        update={"at": None}),)})
    records = [RefundRecord(id="r0", order_id=undated.id, amount=Decimal("5.00"),
                            at=NOW - timedelta(days=2)),
               RefundRecord(id="r9", order_id=undated.id, amount=Decimal("1.50"),
                            at=NOW - timedelta(days=1))]
    result = assemble("s", Platform.WOOCOMMERCE, [customer(1)], [undated], refunds=records)
    (refunded,) = result.journeys[0].orders
    assert [(r.id, r.amount, r.at) for r in refunded.refunds] == [
        ("r0", Decimal("5.00"), NOW - timedelta(days=2)),
        ("r9", Decimal("1.50"), NOW - timedelta(days=1))]


def test_numeric_ids_sort_as_numbers_without_converting_them() -> None:
    huge = "9" * 5000
    assert sorted(["10", "9", huge, "x"], key=id_order) == ["9", "10", huge, "x"]


@pytest.mark.parametrize("platform", [Platform.WOOCOMMERCE, Platform.PRESTASHOP])
def test_the_resolver_gives_every_record_the_person_assemble_gives_it(
        platform: Platform) -> None:
    people = PEOPLE if platform is Platform.PRESTASHOP else [
        customer(1, email="anna@example.com"), customer(2, email="bob@example.com")]
    orders = ORDERS if platform is Platform.PRESTASHOP else [
        order(10, customer_id=None, email="anna@example.com"),
        order(9, customer_id=77, email="carl@example.com"),
        order(8, customer_id=2)]
    result = assemble("s", platform, people, orders, CARTS)
    owner_of = {("order", o.id): j.key for j in result.journeys for o in j.orders}
    owner_of.update({("cart", c.id): j.key for j in result.journeys for c in j.carts})
    resolver = Resolver(Handles.of(p) for p in people)
    for o in orders:
        assert resolver.owner(Handles.of(o)) == owner_of.get(("order", o.id))
    for c in CARTS:
        assert resolver.owner(Handles.of(c), kind="cart") == owner_of.get(("cart", c.id))
    for p in people:
        key = resolver.owner(Handles.of(p))
        assert key in {j.key for j in result.journeys}
