"""RFM scores and groups: the quintile scoring, the group rules, and the features in segment
rules."""

from __future__ import annotations

import itertools

import pytest

from journeybridge.stages import classify_all
from journeybridge.stages.facts import facts_of
from journeybridge.stages.rfm import RFM_GROUPS, rfm_cuts, rfm_group, rfm_scores
from tests.factories import NOW, customer, journey, order


def test_every_score_combination_has_one_known_group() -> None:
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        assert rfm_group(r, f, m) in RFM_GROUPS
    assert {rfm_group(r, f, m) for r, f, m in itertools.product(range(1, 6), repeat=3)} == \
        set(RFM_GROUPS)


@pytest.mark.parametrize(("scores", "group"), [
    ((5, 5, 5), "Champions"), ((4, 4, 4), "Champions"), ((5, 5, 3), "Loyal"),
    ((3, 4, 1), "Loyal"), ((1, 5, 5), "Can't lose them"), ((2, 4, 4), "Can't lose them"),
    ((2, 3, 5), "At risk"), ((1, 4, 2), "At risk"), ((5, 2, 1), "Potential loyalist"),
    ((4, 3, 5), "Potential loyalist"), ((5, 1, 1), "New"), ((4, 1, 5), "Promising"),
    ((3, 3, 3), "Need attention"), ((3, 2, 5), "About to sleep"), ((3, 1, 1), "About to sleep"),
    ((2, 2, 2), "Hibernating"), ((1, 3, 3), "Hibernating"), ((1, 1, 5), "Lost"),
    ((1, 2, 1), "Lost"),
])
def test_group_rules(scores: tuple[int, int, int], group: str) -> None:
    assert rfm_group(*scores) == group


def test_scores_outside_1_to_5_are_refused() -> None:
    with pytest.raises(ValueError, match="1-5"):
        rfm_group(0, 3, 3)


def _people() -> list:  # type: ignore[type-arg]
    # last purchase 10, 20, ..., 100 days ago; i + 1 purchases; spent 10 * (i + 1) each
    out = []
    for i in range(10):
        days = 10 * (i + 1)
        orders = [order(days + 7 * k, total="10.00", customer_id=i + 1) for k in range(i + 1)]
        out.append(journey(customer(i + 1), orders))
    return out


def test_quintile_scores_by_hand() -> None:
    people = _people()
    facts = [facts_of(j, NOW) for j in people] + [facts_of(journey(customer(99)), NOW)]
    cuts = rfm_cuts(facts)
    assert cuts is not None
    # purchases 1..10: percentiles 20/40/60/80 with linear interpolation
    assert cuts.purchases == pytest.approx((2.8, 4.6, 6.4, 8.2))
    scores = rfm_scores(facts, cuts)
    assert scores[-1] is None  # no purchase, no score
    assert [s.frequency for s in scores[:-1] if s] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [s.monetary for s in scores[:-1] if s] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # the most recent buyers score 5
    assert [s.recency for s in scores[:-1] if s] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert [s.group for s in scores[:-1] if s] == [
        "New", "New", "Potential loyalist", "Potential loyalist", "Need attention",
        "Need attention", "Can't lose them", "Can't lose them", "Can't lose them",
        "Can't lose them"]  # R2 F4 M4 and R1 F5 M5
    assert scores[0] is not None
    assert scores[0].code == "511"


def test_rfm_features_in_segment_rules() -> None:
    people = _people()
    results = classify_all(people, now=NOW, segments={
        "vips": "rfm_group == \"Can't lose them\"", "fresh": "recency_score >= 5",
        "big": "monetary_score == 5 and frequency_score >= 4"})
    segs = [r.segments for r in results]
    assert segs[0] == ("fresh",)
    assert segs[8] == ("big", "vips")
    assert sum(1 for s in segs if "fresh" in s) == 2
