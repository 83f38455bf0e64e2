"""Who is who: guests keyed by e-mail, merged into accounts of the same e-mail, orphans counted."""

from __future__ import annotations

from journeybridge.journeys import assemble_journeys
from journeybridge.model import OrderStatus, Platform, TouchpointKind
from tests.factories import NOW, cart, customer, order, review


def test_guest_orders_with_different_case_are_one_person() -> None:
    orders = [order(30, customer_id=None, email="ANNA.GAST@EXAMPLE.COM"),
              order(20, customer_id=None, email="anna.gast@example.com"),
              order(10, customer_id=None, email=" Anna.Gast@Example.com ")]
    result = assemble_journeys("s", Platform.WOOCOMMERCE, [], orders)
    assert [j.key for j in result.journeys] == ["guest:anna.gast@example.com"]
    assert len(result.journeys[0].orders) == 3
    assert result.journeys[0].person.is_guest


def test_guest_who_later_registered_is_one_person() -> None:
    anna = customer(5, email="Anna@Example.com", registered_days_ago=5)
    orders = [order(100, customer_id=None, email="anna@example.com"),
              order(3, customer_id=5)]
    result = assemble_journeys("s", Platform.WOOCOMMERCE, [anna], orders)
    assert [j.key for j in result.journeys] == ["customer:5"]
    assert len(result.journeys[0].orders) == 2
    assert result.guests_merged_into_customers == 1


def test_records_without_identity_are_counted_not_invented() -> None:
    result = assemble_journeys(
        "s", Platform.WOOCOMMERCE, [customer(1)],
        [order(5, customer_id=None, email=None)],
        carts=[cart(2, customer_id=99)],
        reviews=[review(1, email="stranger@example.com", customer_id=None)],
    )
    assert [j.key for j in result.journeys] == ["customer:1"]
    assert result.orders_without_person == 1
    assert result.anonymous_carts == 1
    assert result.reviews_without_person == 1


def test_reviews_link_by_email_case_insensitively() -> None:
    result = assemble_journeys("s", Platform.WOOCOMMERCE,
                               [customer(1, email="lotte@example.com")], [],
                               reviews=[review(3, email="LOTTE@example.com", customer_id=None)])
    assert len(result.journeys[0].reviews) == 1


def test_order_of_unknown_account_falls_back_to_its_email() -> None:
    result = assemble_journeys("s", Platform.WOOCOMMERCE, [],
                               [order(5, customer_id=77, email="deleted@example.com")])
    assert [j.key for j in result.journeys] == ["guest:deleted@example.com"]


def test_touchpoints_are_ordered_and_typed() -> None:
    refunded = order(40, OrderStatus.DELIVERED, refunds=[("5.00", 35)])
    result = assemble_journeys("s", Platform.WOOCOMMERCE, [customer(1, newsletter=True)],
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
    a = assemble_journeys("s", Platform.WOOCOMMERCE, people, orders)
    b = assemble_journeys("s", Platform.WOOCOMMERCE, people[::-1], orders[::-1])
    assert a.journeys == b.journeys
