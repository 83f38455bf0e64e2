"""The learned at-risk score, orders left in preparation, and histories from any system.

Shops here are generated with a seeded RNG; expected outcomes come from how they were made
(who stopped buying), never from recorded model output."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import journeybridge
from journeybridge.errors import ConfigError
from journeybridge.model import OrderStatus
from journeybridge.stages import Stage, StageSettings, classify, classify_all, measure_shop
from journeybridge.stages.backtest import auc
from journeybridge.stages.facts import facts_of
from journeybridge.transactions import read_transactions
from tests.factories import NOW, customer, journey, order


def _history(n: int, seed: int) -> tuple[list[dict[str, str]], set[str]]:
    """Transactions of ``n`` customers over three years before NOW: each buys every ~gap
    days (their own), and a known half stop at a random moment; returns the rows and who
    stopped."""
    rng = random.Random(seed)
    start = NOW.date() - timedelta(days=3 * 365)
    rows: list[dict[str, str]] = []
    stopped: set[str] = set()
    for person in range(n):
        gap = rng.choice([20, 35, 60, 90])
        t = rng.uniform(0, 900)
        end = 3 * 365 + 200
        if rng.random() < 0.5:
            end = rng.uniform(t, 3 * 365 + 200)
            stopped.add(str(person))
        k = 0
        while t < min(end, 3 * 365 + 200):
            rows.append({"customer_id": str(person), "order_id": f"{person}-{k}",
                         "date": (start + timedelta(days=int(t))).isoformat(),
                         "amount": "20.00", "currency": "EUR"})
            k += 1
            t += gap * rng.uniform(0.6, 1.4)
    return rows, stopped


@pytest.fixture(scope="module")
def big_shop() -> list[journeybridge.Journey]:
    rows, _ = _history(1400, seed=5)
    return journeybridge.journeys_from_transactions(rows)


def test_a_shop_with_enough_past_gets_the_learned_score(big_shop: list) -> None:
    rhythm = measure_shop(big_shop, now=NOW)
    assert rhythm.model.is_learned
    assert "learned at-risk score" in rhythm.model.note


def test_the_learned_score_ranks_better_than_chance_and_is_deterministic(big_shop: list
                                                                         ) -> None:
    now = NOW - timedelta(days=200)
    first = classify_all(big_shop, now=now)
    second = classify_all(big_shop, now=now)
    assert [r.probability_no_purchase for r in first] == \
        [r.probability_no_purchase for r in second]
    later = now + timedelta(days=90)
    scores, positive = [], []
    for j, result in zip(big_shop, first):
        before = facts_of(j, now)
        if before.purchases and result.probability_no_purchase is not None:
            scores.append(result.probability_no_purchase)
            positive.append(facts_of(j, later).purchases == before.purchases)
    value = auc(np.array(scores), np.array(positive))
    assert value is not None and value > 0.75


def test_flagged_people_say_what_weighs_most_in_plain_words(big_shop: list) -> None:
    results = classify_all(big_shop, now=NOW - timedelta(days=200))
    flagged = [r for r in results if r.stage in (Stage.AT_RISK, Stage.LAPSED)]
    assert flagged
    for result in flagged:
        text = result.reasons[0].text
        assert "what weighs most: " in text
        words = text.split("what weighs most: ")[1]
        assert 1 <= len(words.split("; ")) <= 3
        assert "_" not in words  # names of features never leak into the sentence
        assert result.reasons[0].facts["weighs_most"] == words


def test_one_journey_with_the_shop_rhythm_equals_classify_all(big_shop: list) -> None:
    now = NOW - timedelta(days=100)
    rhythm = measure_shop(big_shop, now=now)
    results = classify_all(big_shop, now=now)
    for j, expected in list(zip(big_shop, results))[:40]:
        alone = classify(j, now=now, rhythm=rhythm)
        # the same numbers up to the last bits of a matrix product of one row vs many
        assert alone.probability_no_purchase == pytest.approx(
            expected.probability_no_purchase, abs=1e-12)
        assert alone.model_copy(update={"probability_no_purchase": None}) == \
            expected.model_copy(update={"probability_no_purchase": None})


def test_a_small_shop_falls_back_to_the_gates_and_says_so() -> None:
    rows, _ = _history(120, seed=2)
    people = journeybridge.journeys_from_transactions(rows)
    rhythm = measure_shop(people, now=NOW)
    assert not rhythm.model.is_learned
    assert "no learned score" in rhythm.model.note and "1000 needed" in rhythm.model.note


# -- orders left in preparation ------------------------------------------------------------------


def _left_paid(days: float, cid: int) -> journeybridge.Journey:
    return journey(customer(cid), orders=[order(days, OrderStatus.PAID, customer_id=cid)])


def test_an_order_left_paid_is_in_preparation_only_for_the_fulfilment_time() -> None:
    fresh, old = _left_paid(5, 1), _left_paid(300, 2)
    fresh_result, old_result = classify_all([fresh, old], now=NOW)
    assert fresh_result.reasons[0].rule == "purchase.first_order_open"
    assert "order_in_preparation" in fresh_result.flags
    assert old_result.reasons[0].rule != "purchase.first_order_open"
    assert "order_in_preparation" not in old_result.flags
    assert old_result.stage is Stage.AT_RISK  # 300 days > the default 120-day gate


def test_the_shop_own_fulfilment_time_decides_when_measurable() -> None:
    # 30 orders that took 2 days from payment to completion: 90th percentile 2 days
    shipped = [journey(customer(i), orders=[order(400 + i, customer_id=i)])
               for i in range(10, 40)]
    waiting = _left_paid(5, 1)
    results = classify_all([waiting, *shipped], now=NOW)
    assert results[0].reasons[0].rule != "purchase.first_order_open"
    rhythm = measure_shop([waiting, *shipped], now=NOW)
    assert rhythm.gates.fulfilment_orders == 30
    assert abs(rhythm.gates.fulfilment_days - 2.0) < 0.01


def test_a_shop_that_never_completes_orders_still_sees_one_time_buyers_slip() -> None:
    """All orders stay 'paid' (the shop never marks them completed): after 14 days they are
    buyers like anyone and can become at risk and lapsed."""
    people = [_left_paid(days, i) for i, days in enumerate((3, 10, 60, 200, 500), start=1)]
    rules = [r.reasons[0].rule for r in classify_all(people, now=NOW)]
    assert rules[:2] == ["purchase.first_order_open"] * 2
    assert rules[2:] == ["purchase.one_time", "at_risk", "lapsed"]


# -- transactions ------------------------------------------------------------------------------


def test_transactions_become_journeys() -> None:
    rows = [
        {"customer_id": "a", "order_id": "1", "date": "2026-01-05", "amount": "10.00",
         "currency": "eur"},
        {"customer_id": "a", "order_id": "1", "date": "2026-01-05", "amount": "5.50",
         "currency": "EUR"},
        {"customer_id": "a", "order_id": "2", "date": "20260301", "amount": "7", "currency": "EUR"},
        {"customer_id": "b", "order_id": "3", "date": "2026-02-01T10:00:00+02:00",
         "amount": "3", "currency": "USD"},
    ]
    people = journeybridge.journeys_from_transactions(rows)
    assert [j.key for j in people] == ["customer:a", "customer:b"]
    a = people[0]
    assert [str(o.total) for o in a.orders] == ["15.50", "7"]
    assert a.orders[1].created_at.date() == date(2026, 3, 1)
    assert people[1].orders[0].paid_at is not None
    assert people[1].orders[0].paid_at.hour == 8  # UTC
    assert facts_of(a, NOW).purchases == 2


@pytest.mark.parametrize(("row", "message"), [
    ({"customer_id": "a", "order_id": "1", "date": "", "amount": "1", "currency": "EUR"},
     "row 1: no date"),
    ({"customer_id": "a", "order_id": "1", "date": "yesterday", "amount": "1",
      "currency": "EUR"}, "not a date"),
    ({"customer_id": "a", "order_id": "1", "date": "2026-01-01", "amount": "ten",
      "currency": "EUR"}, "not an amount"),
])
def test_bad_transaction_rows_are_named(row: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        journeybridge.journeys_from_transactions([row])


def test_a_transactions_csv_is_read_with_its_header(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("customer_id,order_id,date,amount,currency,extra\n"
                    "7,100,2026-01-01,9.99,EUR,x\n7,101,2026-02-01,9.99,EUR,y\n",
                    encoding="utf-8")
    people = read_transactions(path)
    assert len(people) == 1 and len(people[0].orders) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,date\n1,2026-01-01\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="the header lacks customer_id, order_id"):
        read_transactions(bad)


def test_settings_reject_a_tiny_learned_line() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 20"):
        StageSettings(min_buyers_for_learned_score=5)


# -- expected next order ---------------------------------------------------------------------


def test_a_repeat_buyer_has_an_expected_next_order_from_their_rhythm() -> None:
    regular = journey(customer(1), orders=[order(d, customer_id=1) for d in (95, 65, 35, 5)])
    once = journey(customer(2), orders=[order(40, customer_id=2)])
    two = journey(customer(3), orders=[order(50, customer_id=3), order(10, customer_id=3)])
    gone = journey(customer(4), orders=[order(d, customer_id=4) for d in (900, 870, 840)])
    results = classify_all([regular, once, two, gone], now=NOW)
    last = facts_of(regular, NOW).last_purchase
    assert last is not None
    assert results[0].next_order_expected == last + timedelta(days=30)
    assert results[1].next_order_expected is None  # one order: no rhythm yet
    two_last = facts_of(two, NOW).last_purchase
    assert two_last is not None
    assert results[2].next_order_expected == two_last + timedelta(days=40)
    assert results[3].stage is Stage.LAPSED and results[3].next_order_expected is None
