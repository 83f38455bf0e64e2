"""The columnar path: FactsTable + decide_table + StageTable decide exactly as the per-person
path (what both decide is pinned by test_stage_regression), and the table's own pieces
(ragged purchases, own rhythm, since arithmetic, validation) are right."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.factories as factories
from journeybridge.model import (
    Journey,
    OrderStatus,
)
from journeybridge.stages import Classification, Stage, StageSettings, classify, classify_all
from journeybridge.stages.facts import facts_of
from journeybridge.stages.rhythm import (
    GapGates,
    churn_probabilities,
    fit_churn_model,
    gap_gates,
)
from journeybridge.stages.rules import _plus_days, decide, decide_table
from journeybridge.stages.table import DAY_US, NO_TIME, FactsTable, datetime_of, micros
from tests.factories import NOW, customer, generated_shop, journey, order, review
from tests.test_stage_rules import CASES

DEFAULT = StageSettings()
DEFAULT_GATES = GapGates(DEFAULT.default_at_risk_days, DEFAULT.default_lapsed_days, 0, None,
                         measured=False)


PERMISSIVE = StageSettings(min_repeat_gaps=5, own_rhythm_factor=1.5, advocacy_min_orders=3,
                           min_customers_for_fit=10, min_repeat_buyers_for_fit=5)


def _fresh_ids() -> None:
    factories._order_ids = iter(range(1000, 10_000_000))


def _build(make: object) -> Journey:
    assert callable(make)
    built = make()
    assert isinstance(built, Journey)
    return built


def _table_path(j: Journey) -> Classification:
    table = FactsTable.from_facts([facts_of(j, NOW)], DEFAULT, keys=[j.key])
    return decide_table(table, DEFAULT_GATES, DEFAULT).classification(0)


def test_the_24_cases_decide_the_same_through_classify_and_the_table() -> None:
    """(What they decide is pinned by test_stage_regression.)"""
    for name, make, stage, *_ in CASES:
        _fresh_ids()
        built = _build(make)
        direct = classify(built, now=NOW)
        assert _table_path(built) == direct, name
        assert direct.stage is stage, name


def test_all_cases_in_one_table_equal_one_by_one() -> None:
    journeys = []
    for _, make, *_ in CASES:
        _fresh_ids()
        journeys.append(_build(make))
    facts = [facts_of(j, NOW) for j in journeys]
    table = FactsTable.from_facts(facts, DEFAULT, keys=[j.key for j in journeys])
    together = decide_table(table, DEFAULT_GATES, DEFAULT).classifications()
    assert together == [_table_path(j) for j in journeys]
    assert [r.stage for r in together] == [c[2] for c in CASES]


# -- generated shops ---------------------------------------------------------------------------

def test_the_model_and_gates_are_the_same_from_facts_and_from_the_table() -> None:
    people = generated_shop(11, 700, NOW)
    facts = [facts_of(j, NOW) for j in people]
    table = FactsTable.from_facts(facts, DEFAULT)
    assert gap_gates(table, DEFAULT) == gap_gates(facts, DEFAULT)
    assert gap_gates(table, DEFAULT).measured
    from_table, from_facts = fit_churn_model(table, DEFAULT), fit_churn_model(facts, DEFAULT)
    assert from_table.params is not None
    assert from_table.params.as_tuple() == from_facts.params.as_tuple()  # type: ignore[union-attr]
    assert from_table.note == from_facts.note
    listed = churn_probabilities(from_table, facts, DEFAULT.horizon_days)
    assert listed == churn_probabilities(from_table, table, DEFAULT.horizon_days)
    one_by_one = [from_table.probability(f, DEFAULT.horizon_days) for f in facts]
    assert [p is None for p in listed] == [p is None for p in one_by_one]
    assert [p for p in listed if p is not None] == pytest.approx(
        [p for p in one_by_one if p is not None], rel=1e-12)
    assert all((p is None) == (f.purchases == 0) for p, f in zip(listed, facts))


# -- the table's pieces ------------------------------------------------------------------------


def _repeat_buyer_table() -> FactsTable:
    people = [
        journey(customer(1), orders=[order(d) for d in (700, 680, 20, 5)]),
        journey(customer(2), orders=[order(d) for d in (90, 60, 50, 10)]),
        journey(customer(3)),
        journey(customer(4), orders=[order(300)]),
        journey(customer(5), orders=[order(d) for d in (100, 80, 60, 40, 20)]),
    ]
    return FactsTable.from_facts([facts_of(j, NOW) for j in people], DEFAULT,
                                 keys=[j.key for j in people])


def test_ragged_purchases_and_own_rhythm() -> None:
    table = _repeat_buyer_table()
    assert table.purchases.tolist() == [4, 4, 0, 1, 5]
    assert table.gap_offsets.tolist() == [0, 3, 6, 6, 6, 10]
    assert table.gap_days.tolist() == [20, 660, 15, 30, 10, 40, 20, 20, 20, 20]
    # the middle of the sorted gaps, the upper one for an even count
    assert table.median_gap_days[[0, 1, 4]].tolist() == [20.0, 30.0, 20.0]
    assert np.isnan(table.median_gap_days[[2, 3]]).all()
    assert table.first_purchase[2] == NO_TIME and table.last_purchase[2] == NO_TIME
    assert datetime_of(int(table.nth_purchase(5)[4])) == factories.days_ago(20) + \
        timedelta(minutes=5)
    assert table.nth_purchase(5)[:4].tolist() == [NO_TIME] * 4
    with pytest.raises(ValueError, match="from 1"):
        table.nth_purchase(0)
    triples = table.buyer_triples
    assert triples.buyers.tolist() == [0, 1, 3, 4]
    assert triples.grouped is not None and int(triples.grouped.counts.sum()) == 4


def test_decisions_and_since_in_columns() -> None:
    table = _repeat_buyer_table()
    stages = decide_table(table, DEFAULT_GATES, DEFAULT)
    assert stages.stages() == [Stage.LOYALTY, Stage.LOYALTY, Stage.AWARENESS, Stage.AT_RISK,
                               Stage.ADVOCACY]
    # a new run after the 660-day break: loyal since its second purchase
    assert datetime_of(int(stages.since[0])) == factories.days_ago(5) + timedelta(minutes=5)
    # at risk since the last purchase plus the at-risk gate
    assert datetime_of(int(stages.since[3])) == factories.days_ago(300) + timedelta(
        minutes=5, days=120)
    assert stages.counts()[Stage.LOYALTY] == 2 and sum(stages.counts().values()) == 5
    assert stages.classifications([4, 0]) == [stages.classification(4),
                                              stages.classification(0)]
    assert [c.person_key for c in stages.classifications()] == list(table.keys)


@given(st.floats(min_value=0.0, max_value=5e4, allow_nan=False),
       st.integers(min_value=0, max_value=2_000_000_000 * 1_000_000))
def test_adding_days_rounds_like_timedelta(days: float, start: int) -> None:
    expected = micros(datetime_of(start) + timedelta(days=days))
    got = _plus_days(np.array([start], dtype=np.int64), np.array([days]))
    assert int(got[0]) == expected


@pytest.mark.parametrize("days", [0.5 / 86_400e6, 1.5 / 86_400e6, 2.5 / 86_400e6, 1 / 3,
                                  123.456789, 47.25, 1e-7])
def test_adding_days_half_microseconds(days: float) -> None:
    start = micros(NOW)
    expected = micros(NOW + timedelta(days=days))
    assert int(_plus_days(np.array([start]), np.array([days]))[0]) == expected


def test_decide_is_the_table_path_for_one_person() -> None:
    j = journey(customer(1), orders=[order(70), order(40), order(10)],
                reviews=[review(5, 5)])
    facts = facts_of(j, NOW)
    direct = decide(facts, j.key, DEFAULT_GATES, DEFAULT, 0.3, "a model")
    table = FactsTable.from_facts([facts], DEFAULT, keys=[j.key])
    assert direct == decide_table(table, DEFAULT_GATES, DEFAULT, [0.3], "a model"
                                  ).classification(0)
    assert direct.probability_no_purchase == 0.3
    assert [r.rule for r in direct.reasons] == ["advocacy.review", "rhythm", "model"]


def test_a_refund_after_now_has_not_happened_yet() -> None:
    o = order(30, OrderStatus.DELIVERED, refunds=[("5.00", -3)])
    j = journey(orders=[o])
    assert classify(j, now=NOW).reasons[0].rule == "purchase.one_time"
    assert facts_of(j, NOW).total_spent == Decimal("50.00")
    later = classify(j, now=NOW + timedelta(days=4))
    assert later.reasons[0].rule == "service.refunded"
    assert later.reasons[0].facts["refunded_amount"] == "5.00"


def test_table_validation() -> None:
    good = _repeat_buyer_table()
    fields = {name: getattr(good, name) for name in FactsTable.__dataclass_fields__}
    with pytest.raises(ValueError, match="purchase_offsets"):
        FactsTable(**{**fields, "purchase_offsets": np.array([0, 4, 3, 3, 4, 14])})
    with pytest.raises(ValueError, match="shipped_at must have shape"):
        FactsTable(**{**fields, "shipped_at": np.zeros(3, dtype=np.int64)})
    with pytest.raises(ValueError, match="other settings"):
        decide_table(good, DEFAULT_GATES, PERMISSIVE)
    with pytest.raises(ValueError, match="probabilities must have shape"):
        decide_table(good, DEFAULT_GATES, DEFAULT, [0.5])
    with pytest.raises(ValueError, match="same moment"):
        FactsTable.from_facts([facts_of(journey(), NOW), facts_of(journey(), factories.days_ago(
            1))], DEFAULT)
    with pytest.raises(ValueError, match="now is needed"):
        FactsTable.from_facts([], DEFAULT)
    empty = FactsTable.from_facts([], DEFAULT, now=NOW)
    assert len(decide_table(empty, DEFAULT_GATES, DEFAULT)) == 0
    assert classify_all([], now=NOW) == []
    assert empty.purchases.tolist() == [] and empty.now == NOW
    assert DAY_US == 86_400 * 10**6
