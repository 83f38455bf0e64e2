"""The backtest: AUC, flags and calibration computed correctly on known outcomes."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from journeybridge.model import OrderStatus
from journeybridge.stages.backtest import auc, backtest
from tests.factories import NOW, customer, journey, order


def test_auc_known_values() -> None:
    positive = np.array([True, True, False, False])
    assert auc(np.array([0.9, 0.8, 0.2, 0.1]), positive) == 1.0
    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), positive) == 0.0
    assert auc(np.array([0.5, 0.5, 0.5, 0.5]), positive) == 0.5
    assert auc(np.array([0.9, 0.3, 0.5, 0.1]), positive) == 0.75
    assert auc(np.array([0.1, 0.2]), np.array([True, True])) is None


def _people() -> list:
    people = []
    # 40 buyers who come back every 30 days (orders up to NOW), 40 who stopped 200 days ago
    for i in range(1, 41):
        people.append(journey(customer(i), orders=[order(d, customer_id=i)
                                                    for d in range(400, 0, -30)]))
    for i in range(41, 81):
        people.append(journey(customer(i), orders=[order(d, customer_id=i)
                                                    for d in range(600, 200, -30)]))
    people.append(journey(customer(99), orders=[order(5, OrderStatus.PENDING_PAYMENT,
                                                      customer_id=99)]))
    return people


def test_backtest_separates_returners_from_leavers() -> None:
    cutoff = NOW - timedelta(days=120)
    report = backtest(_people(), cutoff, horizon_days=90, data_end=NOW)
    assert report.buyers == 80  # the person with only an unpaid order is not a buyer
    assert report.did_not_return == 40
    assert report.auc_recency == 1.0
    assert report.flags_model.recall == 1.0 and report.flags_model.precision == 1.0
    assert any("did not buy again" in line for line in report.lines())


def test_backtest_needs_the_horizon_in_the_data() -> None:
    with pytest.raises(ValueError, match="before the end of the 90-day horizon"):
        backtest(_people(), NOW - timedelta(days=30), horizon_days=90, data_end=NOW)


def test_the_probability_answers_the_backtest_horizon() -> None:
    """--horizon alone and the horizon in the settings are the same question (they were
    not: a 90-day probability was scored against a 273-day window)."""
    from journeybridge.stages import StageSettings
    from tests.factories import generated_shop

    fit = StageSettings(min_customers_for_fit=10, min_repeat_buyers_for_fit=5)
    cutoff = NOW - timedelta(days=120)
    people = generated_shop(13, 300, NOW)
    alone = backtest(people, cutoff, horizon_days=60, settings=fit, data_end=NOW)
    set_in = backtest(people, cutoff, settings=fit.model_copy(update={"horizon_days": 60}),
                      data_end=NOW)
    assert alone.horizon_days == set_in.horizon_days == 60
    assert alone.brier is not None and alone.brier == set_in.brier
    assert alone.calibration == set_in.calibration


def test_the_report_shows_the_three_comparators() -> None:
    report = backtest(_people(), NOW - timedelta(days=120), horizon_days=90, data_end=NOW)
    text = "\n".join(report.lines())
    assert "180-day flag" in text and "shop gate flag" in text and "days since last" in text
    # the 40 leavers stopped 200+ days before NOW, i.e. 80+ days before the cutoff
    assert report.flags_fixed.flagged == 0
    assert report.flags_recency.recall == 1.0
