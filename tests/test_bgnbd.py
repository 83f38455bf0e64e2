"""Tests for journeybridge.stages.bgnbd (BG/NBD buy-till-you-die model).

Oracles: the paper's published CDNOW estimates (Fader, Hardie & Lee 2005: r = 0.243,
alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4), the MIT-licensed ``lifetimes`` package
(test-only, skipped where it is missing or does not import), and Monte-Carlo simulation of
the BG/NBD process.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeybridge.stages.bgnbd import (
    DEFAULT_MIN_CUSTOMERS,
    DEFAULT_MIN_REPEAT_BUYERS,
    BGNBDParams,
    bgnbd_log_likelihood,
    check_fit_stability,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    group_customers,
    prob_alive,
    prob_no_purchase,
)

PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_LL = -9582.4
PAPER_PARAMS = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
# The same parameters in days for the simulated "shop" tests.
TRUE = BGNBDParams(r=0.25, alpha=30.0, a=0.8, b=2.5)


# --------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------


def _cdnow_csv() -> Path | None:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "datasets" / "cdnow_customers_summary.csv"
        if path.is_file():
            return path
    return None


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    path = _cdnow_csv()
    if path is None:
        pytest.skip("lifetimes (CDNOW summary data) is not installed")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    x = np.array([float(row["frequency"]) for row in rows])
    tx = np.array([float(row["recency"]) for row in rows])
    age = np.array([float(row["T"]) for row in rows])
    return x, tx, age


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]) -> BGNBDParams:
    return fit_bgnbd(*cdnow)


@pytest.fixture(scope="module")
def lifetimes_fitter_cls() -> Any:
    """lifetimes' BetaGeoFitter class, or skip when it does not import (e.g. pandas 3)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lifetimes import BetaGeoFitter
    except Exception as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"lifetimes does not import here: {exc}")
    return BetaGeoFitter


def _lifetimes_model(cls: Any, params: BGNBDParams) -> Any:
    pd: Any = importlib.import_module("pandas")  # untyped here; only needed with lifetimes
    model = cls()
    model.params_ = pd.Series({"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b})
    return model


def simulate_bgnbd(
    rng: np.random.Generator, params: BGNBDParams, age: np.ndarray, horizon: float
) -> dict[str, np.ndarray]:
    """Simulate the BG/NBD process from each customer's first purchase at time 0.

    Returns frequency, recency, alive-at-age flags, whether the customer buys in
    (age, age + horizon] and how many times.
    """
    n = age.shape[0]
    lam = np.asarray(rng.gamma(params.r, 1.0 / params.alpha, size=n), dtype=np.float64)
    p = np.asarray(rng.beta(params.a, params.b, size=n), dtype=np.float64)
    t = np.zeros(n)  # time of the latest purchase
    x = np.zeros(n)
    tx = np.zeros(n)
    alive_at_age = np.zeros(n, dtype=bool)
    future = np.zeros(n)
    state = np.zeros(n, dtype=np.int8)  # 0 in calibration, 1 in hold-out, 2 done
    while True:
        idx = np.flatnonzero(state < 2)
        if idx.size == 0:
            break
        with np.errstate(divide="ignore"):
            t_next = t[idx] + rng.exponential(1.0, idx.size) / lam[idx]
        calib = state[idx] == 0
        in_calib = calib & (t_next <= age[idx])
        # next purchase beyond the calibration end: alive there; by memorylessness the
        # pending purchase time is also a valid first event of the hold-out
        crossing = calib & ~in_calib
        alive_at_age[idx[crossing]] = True
        state[idx[crossing]] = 1
        in_hold = ~in_calib & (t_next <= age[idx] + horizon)
        x[idx[in_calib]] += 1
        tx[idx[in_calib]] = t_next[in_calib]
        future[idx[in_hold]] += 1
        bought = in_calib | in_hold
        t[idx[bought]] = t_next[bought]
        state[idx[~bought]] = 2  # no further purchase before the end of the hold-out
        buyers = idx[bought]
        state[buyers[rng.random(buyers.size) < p[buyers]]] = 2  # drop out after a purchase
    return {"x": x, "tx": tx, "alive": alive_at_age, "future": future}


@pytest.fixture(scope="module")
def simulated() -> dict[str, Any]:
    rng = np.random.default_rng(20050401)
    n = 100_000
    age = rng.uniform(30.0, 730.0, n)
    horizon = 90.0
    sim: dict[str, Any] = dict(simulate_bgnbd(rng, TRUE, age, horizon))
    sim["age"] = age
    sim["horizon"] = horizon
    return sim


def _binned_agreement(predicted: np.ndarray, observed: np.ndarray, bins: int = 10) -> None:
    """Mean prediction vs observed frequency per quantile bin, within 4 standard errors."""
    order = np.argsort(predicted, kind="stable")
    for chunk in np.array_split(order, bins):
        pred = float(np.mean(predicted[chunk]))
        obs = float(np.mean(observed[chunk]))
        se = math.sqrt(max(pred * (1 - pred), 1e-4) / chunk.size)
        assert abs(pred - obs) <= 4 * se + 1e-3, (pred, obs, se)


# --------------------------------------------------------------------------------------------
# CDNOW: the paper's numbers
# --------------------------------------------------------------------------------------------


def test_cdnow_parameters_match_paper(cdnow_fit: BGNBDParams) -> None:
    assert cdnow_fit.converged, cdnow_fit.message
    assert cdnow_fit.n_customers == 2357
    for name, published in PAPER.items():
        value = getattr(cdnow_fit, name)
        # to the printed precision: within half a unit of the third decimal
        assert round(value, 3) == published, (name, value)
        assert value == pytest.approx(published, abs=5e-4)


def test_cdnow_log_likelihood_matches_paper(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], cdnow_fit: BGNBDParams
) -> None:
    assert round(cdnow_fit.log_likelihood, 1) == PAPER_LL
    assert cdnow_fit.log_likelihood == pytest.approx(-9582.43, abs=0.01)
    assert bgnbd_log_likelihood(cdnow_fit, *cdnow) == pytest.approx(cdnow_fit.log_likelihood)
    # the MLE beats the (rounded) published values
    assert cdnow_fit.log_likelihood >= bgnbd_log_likelihood(PAPER_PARAMS, *cdnow)


def test_cdnow_matches_lifetimes_oracle(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray],
    cdnow_fit: BGNBDParams,
    lifetimes_fitter_cls: Any,
) -> None:
    x, tx, age = cdnow
    oracle = lifetimes_fitter_cls()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle.fit(x, tx, age)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(cdnow_fit, name) == pytest.approx(oracle.params_[name], rel=1e-4)
    # lifetimes' objective is the mean negative log-likelihood
    theirs = lifetimes_fitter_cls._negative_log_likelihood(
        np.log(np.array(cdnow_fit.as_tuple())), x, tx, age, np.ones_like(x), 0.0
    )
    assert cdnow_fit.log_likelihood == pytest.approx(-theirs * x.shape[0], rel=1e-10)


def test_prob_alive_matches_lifetimes(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray],
    cdnow_fit: BGNBDParams,
    lifetimes_fitter_cls: Any,
) -> None:
    x, tx, age = cdnow
    model = _lifetimes_model(lifetimes_fitter_cls, cdnow_fit)
    expected = np.asarray(model.conditional_probability_alive(x, tx, age), dtype=float)
    np.testing.assert_allclose(prob_alive(cdnow_fit, x, tx, age), expected, rtol=1e-9, atol=1e-12)


def test_prob_no_purchase_matches_lifetimes_for_new_customers(
    cdnow_fit: BGNBDParams, lifetimes_fitter_cls: Any
) -> None:
    # For a brand-new customer (x = 0, T = 0) P(no purchase in t) is the unconditional
    # P(X(t) = 0), which lifetimes exposes.
    model = _lifetimes_model(lifetimes_fitter_cls, cdnow_fit)
    for horizon in (0.5, 4.0, 39.0, 78.0, 1000.0):
        expected = float(model.probability_of_n_purchases_up_to_time(horizon, 0))
        got = float(prob_no_purchase(cdnow_fit, 0, 0, 0, horizon))
        assert got == pytest.approx(expected, rel=1e-10)


def test_expected_purchases_match_lifetimes(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray],
    cdnow_fit: BGNBDParams,
    lifetimes_fitter_cls: Any,
) -> None:
    x, tx, age = cdnow
    model = _lifetimes_model(lifetimes_fitter_cls, cdnow_fit)
    for horizon in (1.0, 39.0, 500.0):
        theirs = np.asarray(
            model.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, age),
            dtype=float,
        )
        ours = conditional_expected_purchases(cdnow_fit, x, tx, age, horizon)
        np.testing.assert_allclose(ours, theirs, rtol=1e-8)
        assert float(expected_purchases(cdnow_fit, horizon)) == pytest.approx(
            float(model.expected_number_of_purchases_up_to_time(horizon)), rel=1e-10
        )


def test_cdnow_grouped_fit_equals_ungrouped(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], cdnow_fit: BGNBDParams
) -> None:
    grouped = group_customers(*cdnow)
    assert len(grouped) < cdnow[0].shape[0]
    assert grouped.counts.sum() == cdnow[0].shape[0]
    fit = fit_bgnbd(grouped.frequency, grouped.recency, grouped.age, weights=grouped.counts)
    assert fit.converged
    assert fit.n_customers == cdnow_fit.n_customers
    np.testing.assert_allclose(fit.as_tuple(), cdnow_fit.as_tuple(), rtol=1e-6)
    assert fit.log_likelihood == pytest.approx(cdnow_fit.log_likelihood, rel=1e-12)


def test_fit_is_unit_invariant(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], cdnow_fit: BGNBDParams
) -> None:
    x, tx, age = cdnow
    in_days = fit_bgnbd(x, tx * 7.0, age * 7.0)
    assert in_days.converged
    assert in_days.alpha == pytest.approx(cdnow_fit.alpha * 7.0, rel=1e-6)
    for name in ("r", "a", "b"):
        assert getattr(in_days, name) == pytest.approx(getattr(cdnow_fit, name), rel=1e-6)
    # predictions do not depend on the unit either
    np.testing.assert_allclose(
        prob_no_purchase(in_days, x, tx * 7.0, age * 7.0, 7.0 * 13.0),
        prob_no_purchase(cdnow_fit, x, tx, age, 13.0),
        rtol=1e-6,
    )


def test_cdnow_is_stable(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], cdnow_fit: BGNBDParams
) -> None:
    verdict = check_fit_stability(*cdnow, params=cdnow_fit)
    assert verdict.stable, verdict.reason
    assert verdict.n_repeat_buyers == int(np.sum(cdnow[0] > 0))


# --------------------------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------------------------


def test_prob_no_purchase_matches_simulation(simulated: dict[str, Any]) -> None:
    predicted = prob_no_purchase(
        TRUE, simulated["x"], simulated["tx"], simulated["age"], simulated["horizon"]
    )
    observed = (simulated["future"] == 0).astype(float)
    assert abs(predicted.mean() - observed.mean()) < 4 * math.sqrt(0.25 / observed.size)
    _binned_agreement(predicted, observed)
    # the same within the repeat buyers only, where P(alive) < 1 matters
    repeat = simulated["x"] > 0
    _binned_agreement(predicted[repeat], observed[repeat], bins=5)


def test_prob_alive_matches_simulation(simulated: dict[str, Any]) -> None:
    repeat = simulated["x"] > 0
    predicted = prob_alive(TRUE, simulated["x"], simulated["tx"], simulated["age"])
    assert np.all(predicted[~repeat] == 1.0)
    assert np.all(simulated["alive"][~repeat])
    _binned_agreement(predicted[repeat], simulated["alive"][repeat].astype(float))


def test_conditional_expected_purchases_match_simulation(simulated: dict[str, Any]) -> None:
    expected = conditional_expected_purchases(
        TRUE, simulated["x"], simulated["tx"], simulated["age"], simulated["horizon"]
    )
    future = simulated["future"]
    order = np.argsort(expected)
    for chunk in np.array_split(order, 5):
        se = float(np.std(future[chunk])) / math.sqrt(chunk.size)
        assert abs(expected[chunk].mean() - future[chunk].mean()) <= 4 * se + 1e-3


def test_unconditional_expected_purchases_match_simulation() -> None:
    rng = np.random.default_rng(7)
    age = np.full(50_000, 365.0)
    sim = simulate_bgnbd(rng, TRUE, age, 1.0)
    se = float(np.std(sim["x"])) / math.sqrt(age.size)
    assert float(expected_purchases(TRUE, 365.0)) == pytest.approx(sim["x"].mean(), abs=4 * se)


def test_fit_recovers_simulated_parameters(simulated: dict[str, Any]) -> None:
    x, tx, age = simulated["x"], simulated["tx"], simulated["age"]
    fit = fit_bgnbd(x, tx, age)
    assert fit.converged, fit.message
    # maximum likelihood: at least as likely as the truth
    assert fit.log_likelihood >= bgnbd_log_likelihood(TRUE, x, tx, age) - 1e-6
    assert fit.r == pytest.approx(TRUE.r, rel=0.1)
    assert fit.alpha == pytest.approx(TRUE.alpha, rel=0.1)
    assert fit.a == pytest.approx(TRUE.a, rel=0.25)
    assert fit.b == pytest.approx(TRUE.b, rel=0.25)


def test_grouped_fit_equals_ungrouped_on_daily_data(simulated: dict[str, Any]) -> None:
    # whole days, as the classifier produces them: many customers share a triple
    x = simulated["x"][:20_000]
    age = np.ceil(simulated["age"][:20_000])
    tx = np.minimum(np.ceil(simulated["tx"][:20_000]), age)
    grouped = group_customers(x, tx, age)
    assert len(grouped) < x.shape[0]
    np.testing.assert_array_equal(grouped.frequency[grouped.inverse], x)
    np.testing.assert_array_equal(grouped.recency[grouped.inverse], tx)
    np.testing.assert_array_equal(grouped.age[grouped.inverse], age)
    plain = fit_bgnbd(x, tx, age)
    weighted = fit_bgnbd(grouped.frequency, grouped.recency, grouped.age, weights=grouped.counts)
    assert plain.converged
    assert weighted.converged
    np.testing.assert_allclose(weighted.as_tuple(), plain.as_tuple(), rtol=1e-5)
    assert weighted.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-10)
    assert weighted.n_customers == plain.n_customers == 20_000


def test_zero_weights_drop_rows(cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    x, tx, age = cdnow
    w = np.ones_like(x)
    w[::2] = 0.0
    weighted = fit_bgnbd(x, tx, age, weights=w)
    subset = fit_bgnbd(x[1::2], tx[1::2], age[1::2])
    np.testing.assert_allclose(weighted.as_tuple(), subset.as_tuple(), rtol=1e-5)
    assert weighted.n_customers == subset.n_customers


# --------------------------------------------------------------------------------------------
# Formula checks
# --------------------------------------------------------------------------------------------


def test_prob_no_purchase_limits() -> None:
    p = PAPER_PARAMS
    x = np.array([0.0, 1.0, 5.0, 30.0])
    tx = np.array([0.0, 2.0, 10.0, 35.0])
    age = np.array([39.0, 39.0, 39.0, 39.0])
    np.testing.assert_array_equal(prob_no_purchase(p, x, tx, age, 0.0), 1.0)
    # x = 0 customers are alive, and (alpha+T)/(alpha+T+h))^r decays slowly in h
    far = prob_no_purchase(p, x, tx, age, 1e60)
    np.testing.assert_allclose(far, 1.0 - prob_alive(p, x, tx, age), atol=1e-5)
    # brand-new customer: NBD zero class (alpha / (alpha + h))^r
    assert float(prob_no_purchase(p, 0, 0, 0, 10.0)) == pytest.approx(
        (p.alpha / (p.alpha + 10.0)) ** p.r
    )


def test_prob_alive_is_one_without_repeat_purchases() -> None:
    p = PAPER_PARAMS
    np.testing.assert_array_equal(prob_alive(p, [0, 0, 0], [0, 0, 0], [0.0, 1.0, 3650.0]), 1.0)


def test_broadcasting_of_predictions() -> None:
    p = PAPER_PARAMS
    got = prob_no_purchase(p, 2, 10.0, 39.0, np.array([1.0, 10.0, 100.0]))
    assert got.shape == (3,)
    assert np.all(np.diff(got) < 0)
    assert prob_alive(p, 2, 10.0, 39.0).shape == ()


def test_hypergeometric_fallback_agrees_with_closed_form() -> None:
    from journeybridge.stages import bgnbd

    rng = np.random.default_rng(3)
    x = rng.integers(0, 60, 500).astype(float)
    age = rng.uniform(0.0, 100.0, 500)
    h = rng.uniform(0.1, 100.0, 500)
    for r, alpha, a, b in [(0.243, 4.414, 0.793, 2.426), (2.0, 10.0, 3.0, 5.0), (0.5, 30, 1.0, 1)]:
        closed = bgnbd._hyp_bracket(r, a, b, x, h / (alpha + age + h))
        quad = bgnbd._quad_bracket(r, a, b, x, h / (alpha + age))
        np.testing.assert_allclose(quad, closed, rtol=3e-4)


# --------------------------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------------------------


def _assert_probabilities(values: np.ndarray) -> None:
    assert np.all(np.isfinite(values))
    assert np.all((values >= 0.0) & (values <= 1.0))


def test_extreme_inputs_stay_finite() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    age = rng.uniform(0.0, 3650.0, n)
    x = rng.integers(0, 1001, n).astype(float)
    tx = np.where(x > 0, age * rng.uniform(0.0, 1.0, n), 0.0)
    x[:3], tx[:3], age[:3] = 1000.0, [0.0, 1.0, 3650.0], 3650.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_bgnbd(x, tx, age)
        assert all(math.isfinite(v) and v > 0 for v in fit.as_tuple())
        assert math.isfinite(fit.log_likelihood)
        for params in (
            fit,
            PAPER_PARAMS,
            BGNBDParams(1e-6, 1e6, 1e-6, 1e6),
            BGNBDParams(1e3, 1e-3, 1e3, 1e-3),
            BGNBDParams(1.0, 30.0, 1.0, 1.0),
        ):
            _assert_probabilities(prob_alive(params, x, tx, age))
            for horizon in (0.0, 1.0, 3650.0, 1e9):
                _assert_probabilities(prob_no_purchase(params, x, tx, age, horizon))
                # (a subset: scipy's hyp2f1 and the fallback are slow at absurd parameters)
                expected = conditional_expected_purchases(
                    params, x[:300], tx[:300], age[:300], horizon
                )
                assert np.all(np.isfinite(expected))
                assert np.all(expected >= 0)
                assert np.all(np.isfinite(expected_purchases(params, horizon)))


def test_all_one_time_buyers() -> None:
    rng = np.random.default_rng(5)
    age = rng.uniform(1.0, 3650.0, 5000)
    zeros = np.zeros_like(age)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_bgnbd(zeros, zeros, age)
    assert not fit.converged
    assert "repeat" in fit.message
    assert all(math.isfinite(v) and v > 0 for v in fit.as_tuple())
    assert math.isfinite(fit.log_likelihood)
    _assert_probabilities(prob_no_purchase(fit, zeros, zeros, age, 30.0))
    verdict = check_fit_stability(zeros, zeros, age, params=fit)
    assert not verdict.stable
    assert "more than once" in verdict.reason
    penalised = fit_bgnbd(zeros, zeros, age, penalizer=0.1)
    assert all(math.isfinite(v) and v > 0 for v in penalised.as_tuple())


def test_single_customers_do_not_crash() -> None:
    for data in (([0], [0], [0]), ([1], [0], [0]), ([3], [5.0], [5.0]), ([0], [0], [10.0])):
        fit = fit_bgnbd(*data)
        assert all(math.isfinite(v) and v > 0 for v in fit.as_tuple())
        assert math.isfinite(fit.log_likelihood)


def test_penalizer_shrinks_towards_one(cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    x, tx, age = cdnow
    plain = fit_bgnbd(x[:300], tx[:300], age[:300])
    shrunk = fit_bgnbd(x[:300], tx[:300], age[:300], penalizer=0.5)
    assert shrunk.converged
    assert abs(math.log(shrunk.r)) < abs(math.log(plain.r))
    assert shrunk.log_likelihood <= plain.log_likelihood


# --------------------------------------------------------------------------------------------
# Invalid input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "recency", "age", "match"),
    [
        ([], [], [], "empty"),
        ([1, 2], [1.0], [2.0, 3.0], "same length"),
        ([-1], [0.0], [1.0], "frequency must be >= 0"),
        ([1.5], [0.5], [1.0], "whole numbers"),
        ([1], [-0.5], [1.0], "recency must be >= 0"),
        ([1], [0.5], [-1.0], "age must be >= 0"),
        ([1], [2.0], [1.0], "must not exceed age"),
        ([0], [0.5], [1.0], "recency must be 0"),
        ([1], [float("nan")], [1.0], "finite"),
        ([1], [0.5], [float("inf")], "finite"),
        ([[1]], [[0.5]], [[1.0]], "one-dimensional"),
        (["a"], [0.5], [1.0], "numeric"),
    ],
)
def test_fit_rejects_invalid_input(frequency: Any, recency: Any, age: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_bgnbd(frequency, recency, age)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0, -1.0], ">= 0"),
        ([0.0, 0.0], "sum to zero"),
        ([1.0], "length 2"),
        ([1.0, float("nan")], "finite"),
    ],
)
def test_fit_rejects_invalid_weights(weights: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_bgnbd([1, 0], [1.0, 0.0], [2.0, 2.0], weights=weights)


def test_fit_rejects_invalid_penalizer() -> None:
    with pytest.raises(ValueError, match="penalizer"):
        fit_bgnbd([1, 0], [1.0, 0.0], [2.0, 2.0], penalizer=-1.0)


def test_predictions_reject_invalid_input() -> None:
    p = PAPER_PARAMS
    with pytest.raises(ValueError, match="horizon"):
        prob_no_purchase(p, [1], [1.0], [2.0], -1.0)
    with pytest.raises(ValueError, match="broadcastable"):
        prob_alive(p, [1, 2], [1.0, 1.0, 1.0], [2.0])
    with pytest.raises(ValueError, match="exceed"):
        prob_alive(p, [1], [3.0], [2.0])
    with pytest.raises(ValueError, match="horizon"):
        expected_purchases(p, -2.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_params_reject_non_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="must be finite and > 0"):
        BGNBDParams(r=bad, alpha=1.0, a=1.0, b=1.0)


def test_recency_equal_to_age_is_fine_with_rounding_noise() -> None:
    p = PAPER_PARAMS
    age = 0.1 + 0.2
    assert float(prob_alive(p, 1, 0.3, age)) > 0  # 0.3 vs 0.30000000000000004


# --------------------------------------------------------------------------------------------
# Stability criteria
# --------------------------------------------------------------------------------------------


def _shop(
    n: int, repeat: int, age: float, gap: float, new_share: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n customers observed for ``age``; ``repeat`` of them bought again ``gap`` later;
    a ``new_share`` of the one-time buyers joined ``gap / 3`` ago."""
    x = np.zeros(n)
    tx = np.zeros(n)
    x[:repeat] = 1.0
    tx[:repeat] = gap
    ages = np.full(n, age)
    n_new = int(new_share * n)
    if n_new:
        ages[n - n_new :] = gap / 3.0
    return x, tx, ages


def test_stability_criteria() -> None:
    ok = check_fit_stability(*_shop(1000, 200, 365.0, 30.0))
    assert ok.stable
    assert bool(ok)
    assert ok.reason.endswith(".")
    small = check_fit_stability(*_shop(DEFAULT_MIN_CUSTOMERS - 1, 100, 365.0, 30.0))
    assert not small.stable
    assert "customers" in small.reason
    few = check_fit_stability(*_shop(1000, DEFAULT_MIN_REPEAT_BUYERS - 1, 365.0, 30.0))
    assert not few.stable
    assert "more than once" in few.reason
    young = check_fit_stability(*_shop(1000, 200, 50.0, 40.0))
    assert not young.stable
    assert "repeat gaps" in young.reason
    growing = check_fit_stability(*_shop(1000, 200, 365.0, 30.0, new_share=0.6))
    assert not growing.stable
    assert "newer than one typical repeat gap" in growing.reason
    span = check_fit_stability(*_shop(1000, 200, 365.0, 30.0), min_span=400.0)
    assert not span.stable
    assert "minimum" in span.reason
    failed = BGNBDParams(1.0, 1.0, 1.0, 1.0, converged=False, message="it did not")
    verdict = check_fit_stability(*_shop(1000, 200, 365.0, 30.0), params=failed)
    assert not verdict.stable
    assert "converge" in verdict.reason


def test_stability_counts_weights() -> None:
    x, tx, age = _shop(10, 2, 365.0, 30.0)
    weighted = check_fit_stability(x, tx, age, weights=np.full(10, 100.0))
    assert weighted.stable
    assert weighted.n_customers == 1000
    assert weighted.n_repeat_buyers == 200


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def customers(draw: st.DrawFn, max_size: int = 30) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(min_value=1, max_value=max_size))
    x = np.array(draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n)), dtype=float)
    age = np.array(
        draw(st.lists(st.floats(0.0, 3650.0), min_size=n, max_size=n)),
        dtype=float,
    )
    frac = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)), dtype=float)
    tx = np.where(x > 0, age * frac, 0.0)
    return x, tx, age


@given(
    params=st.builds(BGNBDParams, positive, positive, positive, positive),
    data=customers(),
    horizon=st.floats(0.0, 1e6),
)
def test_probabilities_are_valid(
    params: BGNBDParams, data: tuple[np.ndarray, ...], horizon: float
) -> None:
    x, tx, age = data
    alive = prob_alive(params, x, tx, age)
    none = prob_no_purchase(params, x, tx, age, horizon)
    _assert_probabilities(alive)
    _assert_probabilities(none)
    assert np.all(alive[x == 0] == 1.0)
    # no purchase is at least as likely as being dead, and falls with the horizon
    assert np.all(none >= 1.0 - alive - 1e-12)
    longer = prob_no_purchase(params, x, tx, age, horizon * 2 + 1.0)
    assert np.all(longer <= none + 1e-12)


@given(params=st.builds(BGNBDParams, positive, positive, positive, positive), data=customers())
def test_prob_alive_rises_with_recency(params: BGNBDParams, data: tuple[np.ndarray, ...]) -> None:
    x, tx, age = data
    later = np.where(x > 0, age, 0.0)  # last purchase at the end of observation
    assert np.all(prob_alive(params, x, later, age) >= prob_alive(params, x, tx, age) - 1e-12)


@given(data=customers(max_size=60))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fit_never_fails_on_valid_input(data: tuple[np.ndarray, ...]) -> None:
    x, tx, age = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_bgnbd(x, tx, age)
    assert all(math.isfinite(v) and v > 0 for v in fit.as_tuple())
    assert math.isfinite(fit.log_likelihood)
    assert fit.n_customers == x.shape[0]


@given(data=customers(max_size=40), copies=st.integers(1, 5))
@settings(deadline=None)
def test_group_customers_roundtrip(data: tuple[np.ndarray, ...], copies: int) -> None:
    x, tx, age = (np.tile(v, copies) for v in data)
    grouped = group_customers(x, tx, age)
    assert grouped.counts.sum() == x.shape[0]
    assert len(grouped) <= data[0].shape[0]
    np.testing.assert_array_equal(grouped.frequency[grouped.inverse], x)
    np.testing.assert_array_equal(grouped.recency[grouped.inverse], tx)
    np.testing.assert_array_equal(grouped.age[grouped.inverse], age)
    triples = set(zip(grouped.frequency, grouped.recency, grouped.age, strict=True))
    assert len(triples) == len(grouped)


def test_fit_on_a_vanishingly_short_history_stays_quiet_and_finite() -> None:
    """Found by hypothesis: one customer with a repeat purchase at the same instant and an
    age of 4e-293 drove the optimiser into overflowing trial points (a RuntimeWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_bgnbd(np.array([1.0]), np.array([0.0]), np.array([4.1613531e-293]))
    assert all(math.isfinite(v) for v in fit.as_tuple())


# --------------------------------------------------------------------------------------------
# One optimum, whatever the start and whatever the scipy release
# --------------------------------------------------------------------------------------------

# The fit's own coordinates: (log r, log alpha / mean age, logit a/(a+b), log(a+b)).
_STARTS = np.random.default_rng(2026).uniform([-3.0, -3.0, -4.0, -2.0], [2.0, 2.0, 4.0, 5.0],
                                              size=(6, 4))


def _shop_triples(seed: int, size: int, now_days_back: int = 0) -> tuple[np.ndarray, ...]:
    """(frequency, recency, age, weights) in days of a generated shop's buyers."""
    from datetime import timedelta

    from journeybridge.stages import StageSettings
    from journeybridge.stages.facts import facts_of
    from journeybridge.stages.table import FactsTable
    from tests.factories import NOW, generated_shop

    now = NOW - timedelta(days=now_days_back)
    table = FactsTable.from_facts([facts_of(j, now) for j in generated_shop(seed, size, now)],
                                  StageSettings())
    grouped = table.buyer_triples.grouped
    assert grouped is not None
    return grouped.frequency, grouped.recency, grouped.age, grouped.counts


def _simulated_triples(seed: int, params: BGNBDParams, n: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    age = np.floor(rng.uniform(30.0, 900.0, n))
    sim = simulate_bgnbd(rng, params, age, 1.0)
    return sim["x"], np.minimum(sim["tx"], age), age, np.ones(n)


def _data_sets() -> list[tuple[str, tuple[np.ndarray, ...]]]:
    sets = [(f"generated shop {seed}", _shop_triples(seed, 300 + 40 * seed))
            for seed in range(12)]
    sets += [(f"simulated {p}", _simulated_triples(k, p, 3000)) for k, p in enumerate((
        TRUE,
        BGNBDParams(0.5, 10.0, 2.0, 30.0),
        BGNBDParams(1.5, 60.0, 0.3, 0.8),
        BGNBDParams(0.2, 5.0, 500.0, 8000.0),  # nearly the same drop-out for everyone
    ))]
    return sets


def _in_fit_coordinates(params: BGNBDParams, age: np.ndarray, w: np.ndarray) -> np.ndarray:
    scale = float(np.dot(w, age)) / float(np.sum(w))
    return np.array([math.log(params.r), math.log(params.alpha / scale),
                     math.log(params.a / params.b), math.log(params.a + params.b)])


def _fit_from(data: tuple[np.ndarray, ...], starts: list[np.ndarray] | None) -> BGNBDParams:
    from journeybridge.stages.bgnbd import _fit

    x, tx, age, w = data
    return _fit(x, tx, age, w, 0.0, starts)


@pytest.mark.parametrize(("name", "data"), _data_sets(), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_every_start_reaches_the_same_optimum(name: str, data: tuple[np.ndarray, ...]) -> None:
    fit = fit_bgnbd(data[0], data[1], data[2], weights=data[3])
    assert fit.converged, (name, fit.message)
    for start in _STARTS:
        other = _fit_from(data, [start])
        assert other.converged, (name, start, other.message)
        for field_name, ours, theirs in zip(("r", "alpha", "a", "b"), fit.as_tuple(),
                                            other.as_tuple(), strict=True):
            assert theirs == pytest.approx(ours, rel=1e-6), (name, field_name, start)


def test_cdnow_reaches_the_same_optimum_from_every_start(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], cdnow_fit: BGNBDParams
) -> None:
    data = (*cdnow, np.ones(cdnow[0].shape[0]))
    for start in _STARTS:
        other = _fit_from(data, [start])
        assert other.converged, other.message
        assert other.as_tuple() == pytest.approx(cdnow_fit.as_tuple(), rel=1e-6)


@pytest.mark.parametrize(("name", "data"), _data_sets()[::3], ids=lambda v: v
                         if isinstance(v, str) else "")
def test_the_optimum_is_one_by_the_public_likelihood(name: str,
                                                     data: tuple[np.ndarray, ...]) -> None:
    """Checked without the optimiser: no small move of r, alpha or a/(a+b) raises the
    likelihood beyond rounding, and where a + b sits at its ceiling the likelihood still
    rises towards it (the homogeneous limit the message names)."""
    x, tx, age, w = data
    fit = fit_bgnbd(x, tx, age, weights=w)
    assert fit.converged, fit.message

    def ll(u: np.ndarray) -> float:
        mu = 1.0 / (1.0 + math.exp(-u[2]))
        kappa = math.exp(u[3])
        scale = float(np.dot(w, age)) / float(np.sum(w))
        params = BGNBDParams(math.exp(u[0]), math.exp(u[1]) * scale, mu * kappa,
                             (1 - mu) * kappa)
        return bgnbd_log_likelihood(params, x, tx, age, weights=w) / float(np.sum(w))

    u = _in_fit_coordinates(fit, age, w)
    best = ll(u)
    at_ceiling = "same probability" in fit.message
    for j in range(4 if not at_ceiling else 3):
        for step in (1e-3, -1e-3):
            moved = u.copy()
            moved[j] += step
            assert ll(moved) <= best + 1e-12, (name, j, step)
    if at_ceiling:
        lower = u.copy()
        lower[3] -= 1.0
        assert ll(lower) <= best + 1e-12


def test_the_seed_13_shop_converges_to_its_homogeneous_limit() -> None:
    """The generated shop behind the failing CI run: its likelihood grows without end along
    a = mu kappa, b = (1 - mu) kappa as kappa grows; the fit says so and converges there."""
    x, tx, age, w = _shop_triples(13, 300)
    fit = fit_bgnbd(x, tx, age, weights=w)
    assert fit.converged, fit.message
    assert "same probability" in fit.message
    assert fit.a + fit.b == pytest.approx(1e6, rel=1e-9)
    assert fit.a / (fit.a + fit.b) == pytest.approx(0.0727, abs=5e-4)


def test_terms_in_x_keep_their_digits_for_large_a_and_b() -> None:
    """The summed form equals the lgamma form where that is exact, and keeps full precision
    where the lgamma differences cancel (checked against exact rational arithmetic)."""
    from fractions import Fraction

    from journeybridge.stages.bgnbd import _Objective

    x = np.array([0.0, 1.0, 3.0, 7.0, 40.0])
    ones = np.ones_like(x)
    obj = _Objective(x, np.where(x > 0, 1.0, 0.0), ones * 2.0, ones)
    assert obj.steps is not None
    summed = obj._x_terms(0.7, 2.5, 4.0)
    obj.steps = None
    special = obj._x_terms(0.7, 2.5, 4.0)
    for got, want in zip(summed, special, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    obj = _Objective(x, np.where(x > 0, 1.0, 0.0), ones * 2.0, ones)
    a, b = 72_723.955, 927_276.044  # a seed-13-like ridge
    value = obj._x_terms(0.25, a, b)[0]
    for k, xv in enumerate(x.astype(int)):
        ratio = Fraction(1)
        for j in range(xv):
            ratio *= Fraction(b + j) / Fraction(a + b + j)
        exact = sum(math.log(0.25 + j) for j in range(xv)) + math.log(ratio)
        assert value[k] == pytest.approx(exact, rel=1e-13, abs=1e-14)
