"""The journey model rejects bad data with messages naming the field and the record."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from journeybridge.errors import InvalidRecord
from journeybridge.model import (
    Journey,
    Money,
    Order,
    OrderStatus,
    Person,
    Platform,
    SourceRef,
    Touchpoint,
    TouchpointKind,
    normalize_email,
)
from journeybridge.validation import build

UTC = timezone.utc


def order_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "7", "status": "paid", "raw_status": "processing", "currency": "eur",
        "total": "19.90", "created_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    }
    data.update(changes)
    return data


def test_money_is_decimal_and_currency_upper_cased() -> None:
    order = build(Order, order_data(), "woocommerce order 7")
    assert order.total == Decimal("19.90") and isinstance(order.total, Decimal)
    assert order.currency == "EUR"
    assert str(order.money) == "19.90 EUR"


def test_float_money_is_rejected_with_field_and_record() -> None:
    with pytest.raises(InvalidRecord) as caught:
        build(Order, order_data(total=19.9), "woocommerce order 7")
    message = str(caught.value)
    assert message.startswith("invalid woocommerce order 7:")
    assert "field 'total'" in message and "not a float" in message


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("currency", "euro", "three-letter ISO 4217"),
    ("total", "abc", "field 'total'"),
    ("status", "shipped-ish", "field 'status'"),
    ("created_at", datetime(2026, 1, 2, 3, 4), "timezone-aware"),
])
def test_bad_values_name_the_field(field: str, value: object, expected: str) -> None:
    with pytest.raises(InvalidRecord, match=expected) as caught:
        build(Order, order_data(**{field: value}), "prestashop order 9")
    assert "prestashop order 9" in str(caught.value)
    assert f"'{field}'" in str(caught.value)


def test_aware_times_are_stored_in_utc() -> None:
    amsterdam = timezone(timedelta(hours=2))
    order = build(Order, order_data(created_at=datetime(2026, 7, 1, 14, 0, tzinfo=amsterdam)),
                  "order")
    assert order.created_at == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert order.created_at.utcoffset() == timedelta(0)


def test_models_are_immutable() -> None:
    order = build(Order, order_data(), "order")
    with pytest.raises(ValidationError):
        order.total = Decimal("1")  # type: ignore[misc]


def test_email_in_error_is_not_echoed() -> None:
    with pytest.raises(InvalidRecord) as caught:
        build(Person, {"shop": "s", "platform": "woocommerce", "key": "customer:1",
                       "customer_id": "1", "email": "anna@example", "registered_at": "x"},
              "woocommerce customer 1")
    assert "anna@" not in str(caught.value)


def test_guest_identity_is_the_normalized_email() -> None:
    guest = Person(shop="s", platform=Platform.WOOCOMMERCE, key="guest:anna.gast@example.com",
                   is_guest=True, email=" Anna.Gast@EXAMPLE.com ")
    assert guest.email == "anna.gast@example.com"
    with pytest.raises(ValidationError, match="guest's key"):
        Person(shop="s", platform=Platform.WOOCOMMERCE, key="guest:ANNA@x.nl", is_guest=True,
               email="anna@x.nl")
    with pytest.raises(ValidationError, match="needs a customer_id"):
        Person(shop="s", platform=Platform.WOOCOMMERCE, key="customer:", customer_id=None)


def test_normalize_email() -> None:
    assert normalize_email("  ANNA.GAST@EXAMPLE.COM ") == "anna.gast@example.com"
    assert normalize_email("") is None
    assert normalize_email("no-at-sign") is None
    assert normalize_email(None) is None


def test_order_status_classes() -> None:
    assert OrderStatus.SHIPPED.is_paid and OrderStatus.PAID.is_paid
    assert not OrderStatus.REFUNDED.is_paid
    assert OrderStatus.FAILED.is_open_checkout and not OrderStatus.PAID.is_open_checkout


def test_journey_touchpoints_must_be_in_time_order() -> None:
    person = Person(shop="s", platform=Platform.WOOCOMMERCE, key="customer:1", customer_id="1")
    source = SourceRef(platform=Platform.WOOCOMMERCE, resource="order", id="1")
    early = Touchpoint(kind=TouchpointKind.PAID, at=datetime(2026, 1, 1, tzinfo=UTC),
                       amount=Money(amount=Decimal("5"), currency="EUR"), source=source)
    late = Touchpoint(kind=TouchpointKind.DELIVERED, at=datetime(2026, 1, 3, tzinfo=UTC),
                      source=source)
    Journey(person=person, touchpoints=(early, late))
    with pytest.raises(ValidationError, match="time order"):
        Journey(person=person, touchpoints=(late, early))


def test_json_schema_covers_the_model() -> None:
    schema = Journey.model_json_schema()
    text = json.dumps(schema)
    for name in ("Person", "Order", "OrderLine", "Cart", "Review", "Touchpoint",
                 "NewsletterOptIn", "Refund"):
        assert name in schema["$defs"], name
    assert "checkout_started" in text and "refunded" in text
