"""Journeys to server events: the mapping table, event ids, action sources, refunds and
consent. Pure: model records in, events out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from journeybridge.events import (
    ConsentPolicy,
    EventSettings,
    deterministic_event_id,
    journey_events,
    map_journeys,
)
from journeybridge.events.normalize import sha256_hex
from journeybridge.identity import touchpoints_for
from journeybridge.model import (
    Cart,
    CartLine,
    Journey,
    NewsletterOptIn,
    Order,
    OrderLine,
    OrderStatus,
    Person,
    Platform,
    Refund,
    SourceRef,
    StatusChange,
)

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
SETTINGS = EventSettings(shop_url="https://shop.example/", shop_id="myshop")


def person(cid: str = "42", *, newsletter: bool = True, meta: dict[str, str] | None = None,
           platform: Platform = Platform.WOOCOMMERCE) -> Person:
    return Person(
        shop="myshop", platform=platform, key=f"customer:{cid}", customer_id=cid,
        email=f"anna.jansen{cid}@example.com", first_name="Anna", last_name="Jansen",
        phone="06 12345678", city="Den Haag", postcode="2511 AB", country="NL",
        registered_at=T0, newsletter=NewsletterOptIn(subscribed=newsletter,
                                                     at=T0 + timedelta(minutes=2)),
        meta=meta or {},
        source=SourceRef(platform=platform, resource="customer", id=cid))


def order(oid: str = "1001", *, status: OrderStatus = OrderStatus.PAID, cid: str | None = "42",
          agent: str = UA, meta: dict[str, str] | None = None, refunds: tuple[Refund, ...] = (),
          created: datetime = T0 + timedelta(minutes=5)) -> Order:
    paid = created + timedelta(minutes=3) if status not in (
        OrderStatus.PENDING_PAYMENT, OrderStatus.CHECKOUT_STARTED, OrderStatus.FAILED) else None
    return Order(
        id=oid, number=oid, customer_id=cid, email="Anna.Jansen42@Example.com", status=status,
        raw_status=status.value, currency="EUR", total=Decimal("64.85"),
        total_tax=Decimal("11.25"), shipping_total=Decimal("4.95"), created_at=created,
        modified_at=created + timedelta(hours=1), paid_at=paid,
        lines=(OrderLine(product_id="7", name="Beans", quantity=2, unit_price=Decimal("19.95"),
                         total=Decimal("39.90")),
               OrderLine(product_id="9", variation_id="91", quantity=1,
                         unit_price=Decimal("8.75"), total=Decimal("8.75"))),
        refunds=refunds, client_ip="203.0.113.7", user_agent=agent,
        billing_first_name="Anna", billing_last_name="Jansen", billing_phone="06 12345678",
        billing_city="Den Haag", billing_postcode="2511 AB", billing_country="NL",
        meta=meta or {}, source=SourceRef(platform=Platform.WOOCOMMERCE, resource="order",
                                          id=oid))


def journey(p: Person | None = None, orders: tuple[Order, ...] = (),
            carts: tuple[Cart, ...] = ()) -> Journey:
    p = p or person()
    return Journey(person=p, orders=orders, carts=carts,
                   touchpoints=touchpoints_for(p, orders, carts, ()))


def names(events: list) -> list[str]:  # type: ignore[type-arg]
    return [e.event_name for e in events]


def test_the_mapping_table_one_event_per_record_in_time_order() -> None:
    events = journey_events(journey(orders=(order(),)), SETTINGS)
    assert names(events) == ["CompleteRegistration", "Subscribe", "InitiateCheckout",
                             "Purchase"]
    assert [e.event_time for e in events] == sorted(e.event_time for e in events)
    registration = events[0]
    assert registration.event_time == int(T0.timestamp())


def test_purchase_carries_value_currency_contents_and_order_id() -> None:
    purchase = journey_events(journey(orders=(order(),)), SETTINGS)[-1].to_wire()
    assert purchase["custom_data"] == {
        "value": 64.85, "currency": "EUR", "content_type": "product",
        "content_ids": ["7", "91"],
        "contents": [{"id": "7", "quantity": 2, "item_price": 19.95},
                     {"id": "91", "quantity": 1, "item_price": 8.75}],
        "num_items": 3, "order_id": "1001"}
    assert purchase["event_source_url"] == "https://shop.example/checkout/order-received/1001/"
    assert purchase["action_source"] == "website"
    assert purchase["user_data"]["client_user_agent"] == UA
    assert purchase["user_data"]["client_ip_address"] == "203.0.113.7"
    assert purchase["user_data"]["em"] == sha256_hex("anna.jansen42@example.com")
    assert purchase["user_data"]["ph"] == sha256_hex("31612345678")
    assert purchase["user_data"]["external_id"] == sha256_hex("42")
    assert "data_processing_options" not in purchase


def test_newsletter_event_can_be_lead() -> None:
    settings = SETTINGS.model_copy(update={"newsletter_event": "Lead"})
    assert "Lead" in names(journey_events(journey(), settings))


def test_status_history_gives_one_initiate_checkout_and_one_purchase_per_order() -> None:
    o = order().model_copy(update={"history": (
        StatusChange(status=OrderStatus.CHECKOUT_STARTED, raw_status="checkout-draft", at=T0),
        StatusChange(status=OrderStatus.PENDING_PAYMENT, raw_status="pending",
                     at=T0 + timedelta(minutes=1)),
        StatusChange(status=OrderStatus.PAID, raw_status="processing",
                     at=T0 + timedelta(minutes=2)),
        StatusChange(status=OrderStatus.ON_HOLD, raw_status="on-hold",
                     at=T0 + timedelta(minutes=3)),
        StatusChange(status=OrderStatus.PAID, raw_status="processing",
                     at=T0 + timedelta(minutes=4)))})
    events = journey_events(journey(person(newsletter=False), (o,)), SETTINGS)
    assert names(events) == ["CompleteRegistration", "InitiateCheckout", "Purchase"]
    assert events[1].event_time == int(T0.timestamp())
    assert events[2].event_time == int((T0 + timedelta(minutes=2)).timestamp())


def test_pending_payment_is_a_checkout_not_a_purchase() -> None:
    events = journey_events(journey(orders=(order(status=OrderStatus.PENDING_PAYMENT),)),
                            SETTINGS)
    assert "Purchase" not in names(events)
    assert "InitiateCheckout" in names(events)


@pytest.mark.parametrize("status", [OrderStatus.REFUNDED, OrderStatus.CANCELLED])
def test_fully_refunded_or_cancelled_orders_send_no_purchase(status: OrderStatus) -> None:
    o = order(status=status, refunds=(Refund(id="5", amount=Decimal("64.85"),
                                             at=T0 + timedelta(days=1)),))
    mapped = map_journeys([journey(orders=(o,))], SETTINGS)
    assert "Purchase" not in names(mapped.events)
    assert "Refund" not in " ".join(names(mapped.events))
    if status is OrderStatus.REFUNDED:
        assert mapped.not_sent["purchase_refunded_or_cancelled"] == 1


def test_a_partial_refund_keeps_the_purchase_as_paid() -> None:
    o = order(status=OrderStatus.DELIVERED,
              refunds=(Refund(id="5", amount=Decimal("8.75"), at=T0 + timedelta(days=1)),))
    purchase = [e for e in journey_events(journey(orders=(o,)), SETTINGS)
                if e.event_name == "Purchase"]
    assert purchase[0].custom_data["value"] == 64.85


def test_event_ids_are_deterministic_and_differ_by_shop_record_and_event() -> None:
    first = journey_events(journey(orders=(order(),)), SETTINGS)
    again = journey_events(journey(orders=(order(),)), SETTINGS)
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert len({e.event_id for e in first}) == len(first)
    purchase = first[-1]
    assert purchase.event_id == deterministic_event_id("myshop", "order:1001", "Purchase")
    other_shop = journey_events(journey(orders=(order(),)),
                                SETTINGS.model_copy(update={"shop_id": "othershop"}))
    assert other_shop[-1].event_id != purchase.event_id


@pytest.mark.parametrize("key", ["_meta_event_id", "meta_event_id"])
def test_purchase_reuses_the_woocommerce_plugins_event_id(key: str) -> None:
    plugin_id = "3f2c1a9e-1111-4222-8333-444455556666"
    events = journey_events(journey(orders=(order(meta={key: plugin_id}),)), SETTINGS)
    by_name = {e.event_name: e.event_id for e in events}
    assert by_name["Purchase"] == plugin_id
    assert by_name["InitiateCheckout"] != plugin_id  # the plugin's other ids are random


def test_without_a_user_agent_the_source_is_not_website() -> None:
    o = order(agent="", created=T0 + timedelta(days=3))
    events = journey_events(journey(orders=(o,)), SETTINGS)
    assert {e.action_source for e in events} == {"other"}
    assert all("client_user_agent" not in e.user_data for e in events)
    system = SETTINGS.model_copy(update={"fallback_action_source": "system_generated"})
    assert {e.action_source for e in journey_events(journey(orders=(o,)), system)} == {
        "system_generated"}


def test_registration_borrows_the_browser_of_an_order_in_the_same_session() -> None:
    near = journey_events(journey(orders=(order(),)), SETTINGS)
    assert near[0].event_name == "CompleteRegistration"
    assert near[0].action_source == "website"
    assert near[0].user_data["client_user_agent"] == UA
    assert near[0].event_source_url == "https://shop.example/my-account/"
    far = journey_events(journey(orders=(order(created=T0 + timedelta(days=2)),)), SETTINGS)
    assert far[0].action_source == "other"


def test_prestashop_carts_become_add_to_cart_with_their_contents() -> None:
    p = person(platform=Platform.PRESTASHOP)
    c = Cart(id="77", customer_id="42", created_at=T0 + timedelta(hours=2), currency="EUR",
             lines=(CartLine(product_id="7", quantity=2),
                    CartLine(product_id="9", variation_id="91", quantity=1)),
             source=SourceRef(platform=Platform.PRESTASHOP, resource="cart", id="77"))
    events = journey_events(journey(p, carts=(c,)), SETTINGS)
    cart = next(e for e in events if e.event_name == "AddToCart")
    assert cart.custom_data == {"content_type": "product", "content_ids": ["7", "91"],
                                "contents": [{"id": "7", "quantity": 2},
                                             {"id": "91", "quantity": 1}],
                                "num_items": 3, "currency": "EUR"}
    assert cart.event_source_url == "https://shop.example/index.php?controller=cart"
    assert cart.event_id == deterministic_event_id("myshop", "cart:77", "AddToCart")


def test_since_and_until_select_by_event_time() -> None:
    mapped = map_journeys([journey(orders=(order(),))], SETTINGS,
                          since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=7))
    assert names(mapped.events) == ["Subscribe", "InitiateCheckout"]


def test_consent_newsletter_leaves_out_people_without_opt_in_and_counts_why() -> None:
    yes, no = journey(person("1")), journey(person("2", newsletter=False))
    mapped = map_journeys([yes, no], SETTINGS, ConsentPolicy(source="newsletter"))
    assert {e.person_key for e in mapped.events} == {"customer:1"}
    assert mapped.people_left_out == {"no newsletter opt-in": 1}


def test_consent_by_meta_key_or_list_and_limited_data_use() -> None:
    a = journey(person("1", newsletter=False, meta={"journeybridge_consent": "yes"}))
    b = journey(person("2", newsletter=False))
    by_meta = map_journeys([a, b], SETTINGS,
                           ConsentPolicy(source="meta", meta_key="journeybridge_consent"))
    assert {e.person_key for e in by_meta.events} == {"customer:1"}
    by_list = map_journeys([a, b], SETTINGS, ConsentPolicy(
        source="list", allowed=frozenset({"ANNA.JANSEN2@example.com"})))
    assert {e.person_key for e in by_list.events} == {"customer:2"}
    ldu = map_journeys([a, b], SETTINGS, ConsentPolicy(
        source="list", allowed=frozenset({"customer:1"}), without_consent="ldu"))
    assert ldu.people_limited == 1
    wire = {e.person_key: e.to_wire() for e in ldu.events}
    assert wire["customer:2"]["data_processing_options"] == ["LDU"]
    assert wire["customer:2"]["data_processing_options_country"] == 0
    assert "data_processing_options" not in wire["customer:1"]
    with pytest.raises(ValueError, match="meta_key"):
        ConsentPolicy(source="meta")


def test_no_raw_personal_data_in_the_wire_form() -> None:
    p = person()
    events = map_journeys([journey(p, (order(),))], SETTINGS).events
    text = json.dumps([e.to_wire() for e in events]).lower()
    for raw in ("anna", "jansen", "example.com", "12345678", "den haag", "denhaag", "2511"):
        assert raw not in text
    assert "customer:42" not in text  # the person key stays local
