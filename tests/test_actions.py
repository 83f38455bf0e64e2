"""Next actions (journeybridge.actions): every kind on hand-made journeys, priority, stable ids,
expiry and the settings' validation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from journeybridge.actions import (
    PRIORITY,
    ActionKind,
    ActionSettings,
    action_values,
    candidates,
    next_action,
    next_actions,
)
from journeybridge.model import NewsletterOptIn, OrderLine, Person, Platform, StatusChange
from journeybridge.model import OrderStatus as S
from journeybridge.stages import Classification, Reason, Stage, classify
from tests.factories import NOW, cart, customer, days_ago, journey, order, review

K = ActionKind


def _stage(j, stage: Stage | None = None, since_days: float = 3):
    """The journey's real classification, or one forced to ``stage`` (for the stage kinds)."""
    if stage is None:
        return classify(j, NOW)
    return Classification(person_key=j.key, stage=stage, since=days_ago(since_days),
                          reasons=(Reason(rule="test", text="a test reason"),))


def _line(product: str = "7"):
    return OrderLine(product_id=product, quantity=1, unit_price=Decimal("10"),
                     total=Decimal("10"))


def _delivered(days: float, *, products=("7",), refunds=()):
    o = order(days + 2, S.DELIVERED, refunds=refunds)
    return o.model_copy(update={"lines": tuple(_line(p) for p in products),
                                "completed_at": days_ago(days)})


def _kind(j, now=NOW, settings=None, stage=None):
    a = next_action(j, _stage(j, stage), now, settings)
    return a.kind if a else None


# -- each kind --------------------------------------------------------------------------------

def test_cart_reminder_after_the_abandon_hours_with_an_email():
    c = cart(0).model_copy(update={"created_at": NOW - timedelta(hours=5)})
    j = journey(customer(registered_days_ago=400), carts=[c])
    a = next_action(j, _stage(j), NOW)
    assert a is not None and a.kind is K.CART_REMINDER
    assert a.due == c.created_at + timedelta(hours=4)
    assert a.expires == a.due + timedelta(days=7)
    assert f"cart {c.id}" in a.reason and "reminder" in a.reason
    # not yet abandoned at 3 hours
    assert _kind(j, now=c.created_at + timedelta(hours=3)) is None
    # abandon_hours is a setting
    assert _kind(j, settings=ActionSettings(abandon_hours=6)) is None


def test_cart_reminder_needs_no_payment_since_and_an_email():
    c = cart(2)
    paid_after = order(1, S.PAID)
    assert _kind(journey(customer(), orders=[paid_after], carts=[c])) is not K.CART_REMINDER
    ordered = cart(2, order_id="5")
    assert _kind(journey(customer(), carts=[ordered])) is None
    nobody = Person(shop="test", platform=Platform.WOOCOMMERCE, key="customer:9",
                    customer_id="9", registered_at=days_ago(400))
    assert _kind(journey(nobody, carts=[cart(2, customer_id=9)])) is None


def test_started_checkout_is_a_cart_reminder():
    o = order(1, S.CHECKOUT_STARTED)
    a = next_action(journey(customer(), orders=[o]), _stage(journey(customer(), orders=[o])),
                    NOW)
    assert a is not None and a.kind is K.CART_REMINDER and a.record == f"order {o.id}"


@pytest.mark.parametrize("status", [S.FAILED, S.PENDING_PAYMENT, S.ON_HOLD])
def test_payment_help_for_failed_or_unpaid(status):
    o = order(1, status, paid=False)
    j = journey(customer(), orders=[o])
    a = next_action(j, _stage(j), NOW)
    assert a is not None and a.kind is K.PAYMENT_HELP
    assert o.raw_status in a.reason


def test_payment_help_ends_when_paid_since_or_expired():
    failed = order(3, S.FAILED, paid=False)
    assert _kind(journey(customer(), orders=[failed, order(1, S.PAID)])) is not K.PAYMENT_HELP
    old = order(30, S.FAILED, paid=False)
    assert _kind(journey(customer(), orders=[old])) is not K.PAYMENT_HELP


def test_pending_payment_waits_the_delay():
    o = order(0, S.PENDING_PAYMENT, paid=False, modified_days=0)
    o = o.model_copy(update={"created_at": NOW - timedelta(minutes=20),
                             "modified_at": NOW - timedelta(minutes=20)})
    j = journey(customer(), orders=[o])
    assert _kind(j) is None or _kind(j) is not K.PAYMENT_HELP
    assert _kind(j, settings=ActionSettings(payment_delay_hours=0)) is K.PAYMENT_HELP


def test_track_and_trace_with_tracking_and_carrier():
    o = order(3, S.SHIPPED).model_copy(update={
        "tracking_number": "3SABCD123", "carrier": "PostNL",
        "history": (StatusChange(status=S.SHIPPED, raw_status="Shipped", at=days_ago(1)),)})
    j = journey(customer(), orders=[o])
    a = next_action(j, _stage(j), NOW)
    assert a is not None and a.kind is K.TRACK_AND_TRACE
    assert (a.tracking_number, a.carrier) == ("3SABCD123", "PostNL")
    assert "PostNL" in a.reason and "3SABCD123" in a.reason
    assert a.due == days_ago(1) and a.expires == days_ago(1) + timedelta(days=5)
    assert _kind(j, now=NOW + timedelta(days=5)) is not K.TRACK_AND_TRACE


def test_track_and_trace_for_a_completed_order_with_plugin_tracking():
    o = _delivered(1).model_copy(update={"tracking_number": "JJD000", "carrier": "DHL",
                                         "shipped_at": days_ago(2)})
    j = journey(customer(), orders=[o])
    a = next_action(j, _stage(j), NOW)
    assert a is not None and a.kind is K.TRACK_AND_TRACE and a.due == days_ago(2)
    # without tracking, a completed order gets no track and trace
    plain = _delivered(1)
    assert _kind(journey(customer(), orders=[plain])) is not K.TRACK_AND_TRACE


def test_review_request_after_the_delay_not_refunded_not_reviewed():
    o = _delivered(8)
    j = journey(customer(), orders=[o])
    a = next_action(j, _stage(j), NOW)
    assert a is not None and a.kind is K.REVIEW_REQUEST
    assert a.due == days_ago(8) + timedelta(days=7)
    assert _kind(journey(customer(), orders=[_delivered(5)])) is not K.REVIEW_REQUEST
    assert _kind(j, settings=ActionSettings(review_delay_days=3)) is K.REVIEW_REQUEST
    refunded = _delivered(8, refunds=[("10.00", 7)])
    assert _kind(journey(customer(), orders=[refunded])) is not K.REVIEW_REQUEST
    reviewed = journey(customer(), orders=[o], reviews=[review(1)])
    assert _kind(reviewed) is not K.REVIEW_REQUEST
    partly = journey(customer(), orders=[_delivered(8, products=("7", "8"))],
                     reviews=[review(1)])
    a = next_action(partly, _stage(partly), NOW)
    assert a is not None and a.kind is K.REVIEW_REQUEST and "1 product(s) not reviewed" in a.reason


@pytest.mark.parametrize(("stage", "kind"), [(Stage.AT_RISK, K.WIN_BACK),
                                        (Stage.LAPSED, K.REACTIVATION),
                                        (Stage.ADVOCACY, K.THANK_YOU)])
def test_stage_kinds(stage, kind):
    j = journey(customer(), orders=[order(300)])
    a = next_action(j, _stage(j, stage, since_days=3), NOW)
    assert a is not None and a.kind is kind and a.due == days_ago(3)
    assert "a test reason" in a.reason
    assert next_action(j, _stage(j, stage, since_days=31), NOW) is None


def test_welcome_for_registered_or_subscribed_without_orders():
    j = journey(customer(registered_days_ago=2))
    assert _kind(j) is K.WELCOME
    assert _kind(journey(customer(registered_days_ago=20))) is None
    guest = Person(shop="test", platform=Platform.WOOCOMMERCE, key="guest:g@example.com",
                   is_guest=True, email="g@example.com",
                   newsletter=NewsletterOptIn(subscribed=True, at=days_ago(1)))
    assert _kind(journey(guest)) is K.WELCOME
    assert _kind(journey(customer(registered_days_ago=2), orders=[order(1)])) is not K.WELCOME


# -- priority, ids, expiry, settings ------------------------------------------------------------

def test_priority_payment_before_cart_before_welcome():
    j = journey(customer(registered_days_ago=1), orders=[order(0.5, S.FAILED, paid=False)],
                carts=[cart(0.5)])
    found = candidates(j, _stage(j), NOW)
    assert [a.kind for a in found] == [K.PAYMENT_HELP, K.CART_REMINDER]
    assert next_action(j, _stage(j), NOW).kind is K.PAYMENT_HELP
    without = ActionSettings(enabled=[K.CART_REMINDER.value, K.WELCOME.value])
    assert _kind(j, settings=without) is K.CART_REMINDER
    assert PRIORITY.index(K.TRACK_AND_TRACE) < PRIORITY.index(K.REVIEW_REQUEST) < \
        PRIORITY.index(K.WIN_BACK) < PRIORITY.index(K.WELCOME)


def test_ids_are_stable_and_differ_by_trigger():
    c = cart(1)
    j = journey(customer(), carts=[c])
    first = next_action(j, _stage(j), NOW)
    again = next_action(journey(customer(), carts=[c]), _stage(j), NOW + timedelta(hours=2))
    assert first is not None and again is not None and first.id == again.id
    other = next_action(journey(customer(), carts=[cart(1)]), _stage(j), NOW)
    assert other is not None and other.id != first.id
    moved = c.model_copy(update={"updated_at": days_ago(0.5)})
    later = next_action(journey(customer(), carts=[moved]), _stage(j), NOW)
    assert later is not None and later.id != first.id


def test_expired_action_is_not_open_and_values_clear():
    c = cart(1)
    j = journey(customer(), carts=[c])
    a = next_action(j, _stage(j), NOW)
    assert a is not None and not a.is_open(a.expires) and a.is_open(a.due)
    assert next_action(j, _stage(j), a.expires) is None
    values = action_values(a)
    assert values == {"next_action": "cart_reminder", "next_action_id": a.id,
                      "next_action_due": a.due.isoformat(timespec="seconds")}
    assert set(action_values(None).values()) == {""}


def test_next_actions_of_many_and_naive_now():
    people = [journey(customer(1, registered_days_ago=1)), journey(customer(2))]
    found = next_actions(people, [_stage(p) for p in people], NOW)
    assert [a.person_key for a in found] == ["customer:1"]
    with pytest.raises(ValueError, match="timezone-aware"):
        next_action(people[0], _stage(people[0]), NOW.replace(tzinfo=None))


def test_settings_validation():
    with pytest.raises(ValidationError, match="unknown action kind 'sms'"):
        ActionSettings(enabled=["sms"])
    with pytest.raises(ValidationError):
        ActionSettings(abandon_hours=0)
    with pytest.raises(ValidationError):
        ActionSettings(review_days=-1)
    with pytest.raises(ValidationError, match="twice"):
        ActionSettings(enabled=["welcome", "welcome"])
