"""Summaries give the facts-table row of a person exactly until they expire, and classifying
from summaries decides as classify_all does from whole journeys."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import numpy as np
import pytest

from journeybridge.stages import StageSettings, classify_all
from journeybridge.stages.facts import facts_of
from journeybridge.stages.summary import (
    PersonSummary,
    SummaryError,
    classify_summaries,
    summarize,
    summary_key,
)
from journeybridge.stages.table import FactsTable, micros
from tests.factories import NOW, cart, customer, generated_shop, journey, order

SEGMENTS = {"big": "total_spent > 100", "recent": "days_since_last_order < 60",
            "nl": "country == 'NL' or newsletter", "champions": "rfm_group == 'Champions'",
            "r5": "recency_score >= 4"}

FACT_COLUMNS = ("shipped_at", "shipped_order", "trouble_at", "trouble_order",
                "trouble_refunded", "flags", "review_at", "review_rating", "review_verified",
                "review_product", "signal_count", "signal_first", "signal_detail",
                "known_since", "orders_seen", "preparing_since", "purchase_offsets",
                "purchase_times", "fulfilment_days")


def _same_tables(a: FactsTable, b: FactsTable, who: str) -> None:
    for name in FACT_COLUMNS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), f"{who}: column {name}"
    for i in range(len(a)):
        for name in ("shipped_order", "trouble_order"):
            j, k = int(getattr(a, name)[i]), int(getattr(b, name)[i])
            assert (j < 0 and k < 0) or a.order_refs[j] == b.order_refs[k], f"{who}: {name}"
        for name in ("review_product", "signal_detail"):
            j, k = int(getattr(a, name)[i]), int(getattr(b, name)[i])
            assert (j < 0 and k < 0) or a.texts[j] == b.texts[k], f"{who}: {name}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_summary_gives_the_fresh_row_at_every_moment_before_it_expires(seed: int) -> None:
    settings = StageSettings()
    rng = random.Random(seed)
    shop = generated_shop(seed, 120, NOW)
    as_of = NOW - timedelta(days=200)
    checked = 0
    for j in shop:
        summary = PersonSummary.from_json(summarize(j, as_of, settings).to_json())
        end = summary.valid_until or NOW + timedelta(days=400)
        # the moment of taking it, random moments inside, and just before it expires
        moments = [as_of, end - timedelta(microseconds=1)]
        moments += [as_of + (end - as_of) * rng.random() for _ in range(3)]
        for moment in moments:
            assert summary.usable_at(moment, summary_key(settings))
            fresh = FactsTable.from_facts([facts_of(j, moment)], settings, [j.key])
            from_summary = classify_summaries([j.key], [summary], moment, settings).decided.facts
            _same_tables(fresh, from_summary, f"{j.key} at {moment.isoformat()}")
            checked += 1
        if summary.valid_until is not None:
            assert not summary.usable_at(summary.valid_until, summary_key(settings))
    assert checked == 5 * len(shop)


def test_a_cart_ageing_into_abandoned_ends_the_summary_then() -> None:
    settings = StageSettings(abandoned_after_hours=4)
    j = journey(customer(1), carts=[cart(0.05)])  # 1.2 hours old
    summary = summarize(j, NOW, settings)
    placed = j.carts[0].updated_at or j.carts[0].created_at
    assert summary.valid_until == placed + timedelta(hours=4)


@pytest.mark.parametrize("seed", [5, 6])
def test_classifying_from_summaries_equals_classify_all(seed: int) -> None:
    settings = StageSettings()
    shop = generated_shop(seed, 400, NOW)
    expected = classify_all(shop, now=NOW, settings=settings, segments=SEGMENTS)
    summaries = [PersonSummary.from_json(summarize(j, NOW, settings).to_json()) for j in shop]
    got = classify_summaries([j.key for j in shop], [summaries[:150], summaries[150:]], NOW,
                             settings, SEGMENTS)
    assert got.stages == [c.stage for c in expected]
    assert got.since == [c.since for c in expected]
    assert got.segments == [c.segments for c in expected]
    assert got.next_order_expected == [c.next_order_expected for c in expected]
    assert any(got.next_order_expected)
    assert any(got.segments) and len(set(got.stages)) >= 4
    rows = [0, 7, len(shop) - 1]
    for row, c in zip(rows, got.classifications(rows)):
        assert c == expected[row], shop[row].key


def test_an_expired_or_foreign_summary_is_refused() -> None:
    settings = StageSettings()
    j = journey(customer(1), [order(3, total="20.00")])
    summary = summarize(j, NOW - timedelta(days=1), settings)
    with pytest.raises(SummaryError, match="customer:1"):
        classify_summaries([j.key], [summary], NOW, StageSettings(service_window_days=3))
    with pytest.raises(SummaryError, match="customer:1"):
        classify_summaries([j.key], [summary], NOW - timedelta(days=2), settings)
    with pytest.raises(SummaryError, match="does not parse"):
        PersonSummary.from_json("{\"k\": 1}")
    data = json.loads(summary.to_json())
    assert data["a"] == micros(NOW - timedelta(days=1))
