"""Table-driven tests for every stage rule and its edges (default gates: 120 / 365 days)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journeybridge.model import OrderStatus as S
from journeybridge.stages import Stage, StageSettings, classify
from tests.factories import NOW, cart, customer, days_ago, journey, order, review

CASES = [
    # (name, journey builder, stage, rule, flags that must be present)
    ("registered only", lambda: journey(customer(registered_days_ago=3)), Stage.AWARENESS,
     "awareness", ()),
    ("newsletter only", lambda: journey(customer(newsletter=True)), Stage.AWARENESS,
     "awareness", ("newsletter",)),
    ("fresh checkout, not yet abandoned", lambda: journey(orders=[order(1 / 24 / 2,
                                                                         S.PENDING_PAYMENT)]),
     Stage.CONSIDERATION, "consideration.checkout", ()),
    ("abandoned checkout", lambda: journey(orders=[order(2, S.PENDING_PAYMENT)]),
     Stage.CONSIDERATION, "consideration.checkout", ("abandoned_checkout",)),
    ("checkout draft", lambda: journey(orders=[order(2, S.CHECKOUT_STARTED)]),
     Stage.CONSIDERATION, "consideration.checkout", ("abandoned_checkout",)),
    ("failed payment", lambda: journey(orders=[order(2, S.FAILED)]), Stage.CONSIDERATION,
     "consideration.checkout", ("payment_failed",)),
    ("cart left behind", lambda: journey(carts=[cart(3)]), Stage.CONSIDERATION,
     "consideration.checkout", ("abandoned_cart",)),
    ("old unpaid checkout fades to awareness", lambda: journey(orders=[order(60,
                                                                            S.PENDING_PAYMENT)]),
     Stage.AWARENESS, "awareness", ()),
    ("first order being prepared", lambda: journey(orders=[order(1, S.PAID)]), Stage.PURCHASE,
     "purchase.first_order_open", ("order_in_preparation",)),
    ("one-time buyer, delivered", lambda: journey(orders=[order(20, S.DELIVERED)]),
     Stage.PURCHASE, "purchase.one_time", ()),
    ("shipped, not delivered", lambda: journey(orders=[order(20), order(3, S.SHIPPED)]),
     Stage.SERVICE, "service.shipped", ()),
    ("refunded after payment, recently", lambda: journey(
        orders=[order(10, S.REFUNDED, modified_days=2)]), Stage.SERVICE, "service.refunded",
     ("refund_or_cancellation",)),
    ("partial refund in progress", lambda: journey(
        orders=[order(10, S.DELIVERED, refunds=[("5.00", 1)])]), Stage.SERVICE,
     "service.refunded", ()),
    ("refund long ago is not service", lambda: journey(
        orders=[order(30, S.DELIVERED), order(90, S.REFUNDED, modified_days=80)]),
     Stage.PURCHASE, "purchase.one_time", ()),
    ("repeat buyer within rhythm", lambda: journey(
        orders=[order(70), order(40), order(10)]), Stage.LOYALTY, "loyalty", ()),
    ("repeat buyer with a low review stays loyal", lambda: journey(
        orders=[order(70), order(10)], reviews=[review(5, 2)]), Stage.LOYALTY, "loyalty", ()),
    ("repeat buyer with a 5-star review", lambda: journey(
        orders=[order(70), order(10)], reviews=[review(5, 5)]), Stage.ADVOCACY,
     "advocacy.review", ()),
    ("one-time buyer with a review is not an advocate", lambda: journey(
        orders=[order(10)], reviews=[review(5, 5)]), Stage.PURCHASE, "purchase.one_time", ()),
    ("many orders make an advocate", lambda: journey(
        orders=[order(d) for d in (100, 80, 60, 40, 20)]), Stage.ADVOCACY,
     "advocacy.many_orders", ()),
    ("past the at-risk gate", lambda: journey(orders=[order(200)]), Stage.AT_RISK, "at_risk",
     ()),
    ("past the lapsed gate", lambda: journey(orders=[order(800), order(400)]), Stage.LAPSED,
     "lapsed", ()),
    ("lapsed fan needs a win-back, not a thank-you", lambda: journey(
        orders=[order(d) for d in (900, 800, 700, 600, 500)], reviews=[review(480, 5)]),
     Stage.LAPSED, "lapsed", ()),
    ("own slow rhythm is not at risk", lambda: journey(
        orders=[order(450), order(300), order(150)]), Stage.LOYALTY, "loyalty", ()),
    ("loyal customer with a new abandoned checkout stays loyal", lambda: journey(
        orders=[order(70), order(40), order(2, S.PENDING_PAYMENT)]), Stage.LOYALTY,
     "loyalty", ("abandoned_checkout",)),
]


@pytest.mark.parametrize(("name", "make", "stage", "rule", "flags"), CASES,
                         ids=[c[0] for c in CASES])
def test_rules(name: str, make: object, stage: Stage, rule: str, flags: tuple[str, ...]) -> None:
    result = classify(make(), now=NOW)  # type: ignore[operator]
    assert result.stage is stage, result.reasons
    assert result.reasons[0].rule == rule
    assert result.reasons[0].text
    for flag in flags:
        assert flag in result.flags
    assert result.since <= NOW


def test_reasons_carry_the_facts() -> None:
    result = classify(journey(orders=[order(71), order(41), order(11)]), now=NOW)
    facts = result.reasons[0].facts
    assert facts["purchases"] == 3
    assert facts["days_since_last_purchase"] == pytest.approx(11.0, abs=0.01)
    assert "3 paid orders; last 11 days ago" in result.reasons[0].text
    assert any(r.rule == "rhythm" for r in result.reasons)


def test_since_dates() -> None:
    first = order(1, S.PAID)
    assert classify(journey(orders=[first]), now=NOW).since == first.paid_at
    at_risk = classify(journey(orders=[order(200)]), now=NOW)
    assert at_risk.since == order(200).paid_at + timedelta(days=120)  # type: ignore[operator]
    loyal = [order(70), order(40), order(10)]
    assert classify(journey(orders=loyal), now=NOW).since == loyal[1].paid_at


def test_since_is_stable_between_runs() -> None:
    j = journey(orders=[order(70), order(40), order(10)])
    assert classify(j, now=NOW).since == classify(j, now=NOW + timedelta(days=3)).since


def test_buying_again_after_a_break_restarts_loyalty() -> None:
    orders = [order(700), order(680), order(20), order(5)]
    result = classify(journey(orders=orders), now=NOW)
    assert result.stage is Stage.LOYALTY
    assert result.since == orders[3].paid_at  # second purchase of the new run


def test_future_orders_do_not_count() -> None:
    future = order(-5, S.DELIVERED)
    result = classify(journey(orders=[future]), now=NOW)
    assert result.stage is Stage.AWARENESS


def test_status_is_taken_as_of_now() -> None:
    # paid 20 days ago, completed later (after NOW - 30): at NOW - 30 it did not exist,
    # at NOW - 19 it was paid and being prepared
    o = order(20, S.DELIVERED, modified_days=10)
    assert classify(journey(orders=[o]), now=NOW - timedelta(days=30)).stage is Stage.AWARENESS
    early = classify(journey(orders=[o]), now=days_ago(19))
    assert early.stage is Stage.PURCHASE and early.reasons[0].rule == "purchase.first_order_open"


def test_settings_change_the_gates() -> None:
    j = journey(orders=[order(60)])
    assert classify(j, now=NOW).stage is Stage.PURCHASE
    tight = StageSettings(default_at_risk_days=30, default_lapsed_days=90)
    assert classify(j, now=NOW, settings=tight).stage is Stage.AT_RISK


def test_own_rhythm_stretches_the_lapsed_gate_further_than_the_at_risk_gate() -> None:
    # every 150 days, last one 400 days ago: at risk after 2 gaps (300 days), lapsed only
    # after 3 (450), although the shop's default lapsed gate is 365 days
    result = classify(journey(orders=[order(700), order(550), order(400)]), now=NOW)
    assert result.stage is Stage.AT_RISK
    assert result.reasons[0].facts["at_risk_after_days"] == 300.0
    assert result.reasons[0].facts["lapsed_after_days"] == 450.0
    assert "their usual gap is 150 days" in result.reasons[0].text
    gone = classify(journey(orders=[order(800), order(650), order(500)]), now=NOW)
    assert gone.stage is Stage.LAPSED


def test_inconsistent_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="lapsed_probability"):
        StageSettings(at_risk_probability=0.9, lapsed_probability=0.5)
