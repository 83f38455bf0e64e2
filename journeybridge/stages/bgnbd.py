"""The BG/NBD "buy till you die" model, fitted per shop with numpy and scipy.

Model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way: An Alternative to
the Pareto/NBD Model", Marketing Science 24(2)):

* while active, a customer buys according to a Poisson process with rate ``lambda``;
* after every purchase the customer becomes inactive ("dies") with probability ``p``;
* ``lambda ~ Gamma(shape=r, rate=alpha)`` and ``p ~ Beta(a, b)``, independently.

A customer is summarised by three numbers measured from her first purchase:

* ``frequency`` ``x``: the number of repeat purchases (purchases after the first one);
* ``recency`` ``t_x``: the time of the last purchase (0 when ``x == 0``);
* ``age`` ``T``: the time between the first purchase and the end of observation.

Any time unit may be used as long as it is the same for all three (and for ``horizon``);
``alpha`` is then expressed in that unit, the other three parameters are unit-free.

The individual likelihood (paper, eq. 6) is::

    L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
      + [x > 0] B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))

and since ``B(a+1, b+x-1) / B(a, b+x) = a / (b+x-1)``::

    log L = lgamma(r+x) - lgamma(r) + r log(alpha) + log B(a, b+x) - log B(a, b)
          + logsumexp( -(r+x) log(alpha+T),
                       [x > 0] (log a - log(b+x-1) - (r+x) log(alpha+t_x)) )

which is what :func:`bgnbd_log_likelihood` evaluates, vectorised, and :func:`fit_bgnbd`
maximises (with an analytic gradient) in log-parameter space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def _scipy_special() -> Any:
    """scipy.special, imported on first use: importing scipy costs about half a second that
    every command would otherwise pay, fitting or not."""
    from scipy import special

    return special


def _scipy_optimize() -> Any:
    """scipy.optimize, imported on first use (see :func:`_scipy_special`)."""
    from scipy import optimize

    return optimize

__all__ = [
    "DEFAULT_MIN_CUSTOMERS",
    "DEFAULT_MIN_REPEAT_BUYERS",
    "DEFAULT_MIN_SPAN_GAPS",
    "BGNBDParams",
    "FitStability",
    "GroupedCustomers",
    "bgnbd_log_likelihood",
    "check_fit_stability",
    "conditional_expected_purchases",
    "expected_purchases",
    "fit_bgnbd",
    "group_customers",
    "prob_alive",
    "prob_no_purchase",
]

#: Minimum number of customers (sum of weights) for :func:`check_fit_stability`.
DEFAULT_MIN_CUSTOMERS: Final = 200
#: Minimum number of customers with at least one repeat purchase.
DEFAULT_MIN_REPEAT_BUYERS: Final = 30
#: The oldest customer must have been observed for at least this many typical repeat gaps.
DEFAULT_MIN_SPAN_GAPS: Final = 2.0

# Log-parameter box for the optimiser. ``alpha`` is optimised in units of the mean customer
# age, so the box is unit-free: parameters pinned to it mean the data do not identify them.
_LOG_LOWER: Final = math.log(1e-8)
_LOG_UPPER: Final = math.log(1e8)
_BOUND_SLACK: Final = 1e-6
# Convergence: largest |d mean-log-likelihood / d log-parameter| accepted at the optimum,
# relative to max(1, |mean log-likelihood|).
_GRAD_TOL: Final = 1e-5
_MAX_ITER: Final = 1000
# Tolerance for recency slightly above age because of floating-point date arithmetic.
_REL_TOL: Final = 1e-9
_PARAM_NAMES: Final = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD parameters and, when produced by :func:`fit_bgnbd`, fit diagnostics.

    ``r`` and ``alpha`` are the shape and rate of the gamma mixing distribution of purchase
    rates (``alpha`` in the caller's time unit); ``a`` and ``b`` are the beta mixing
    distribution of the drop-out probability. All four must be finite and positive.

    Diagnostics: ``log_likelihood`` is the total (weighted, unpenalised) log-likelihood at
    these parameters, ``n_customers`` the number of customers (sum of weights) fitted,
    ``converged`` whether the optimiser reached an interior optimum with a vanishing
    gradient, ``message`` a short human-readable explanation, ``iterations`` the optimiser
    iterations used. Parameters built by hand keep the defaults (``converged=False``: no fit
    happened).
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = field(default=math.nan, compare=False)
    n_customers: int = field(default=0, compare=False)
    converged: bool = field(default=False, compare=False)
    message: str = field(default="", compare=False)
    iterations: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        for name in _PARAM_NAMES:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"BG/NBD parameter {name} must be finite and > 0, got {value!r}")

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return ``(r, alpha, a, b)``."""
        return (self.r, self.alpha, self.a, self.b)


@dataclass(frozen=True)
class GroupedCustomers:
    """Unique ``(frequency, recency, age)`` triples with their customer counts.

    ``counts[i]`` customers share triple ``i``; ``inverse`` maps every original customer to
    its triple, so ``values[inverse]`` spreads per-triple results back to customers.
    """

    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    counts: FloatArray
    inverse: IntArray

    def __len__(self) -> int:
        return int(self.frequency.shape[0])


@dataclass(frozen=True)
class FitStability:
    """Verdict of :func:`check_fit_stability`: ``stable`` plus a one-sentence ``reason``."""

    stable: bool
    reason: str
    n_customers: int
    n_repeat_buyers: int

    def __bool__(self) -> bool:
        return self.stable


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------


def _as_float_array(values: ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return arr


def _check_triples(x: FloatArray, tx: FloatArray, age: FloatArray) -> None:
    if np.any(x < 0):
        raise ValueError("frequency must be >= 0 (it counts repeat purchases)")
    if np.any(x != np.floor(x)):
        raise ValueError("frequency must be whole numbers (repeat purchases)")
    if np.any(tx < 0):
        raise ValueError("recency must be >= 0")
    if np.any(age < 0):
        raise ValueError("age must be >= 0")
    if np.any(tx > age + _REL_TOL * np.maximum(age, 1.0)):
        raise ValueError("recency must not exceed age (last purchase after end of observation)")
    if np.any((x == 0) & (tx > 0)):
        raise ValueError("recency must be 0 for customers without repeat purchases")


def _validate_1d(
    frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = _as_float_array(frequency, "frequency")
    tx = _as_float_array(recency, "recency")
    age_arr = _as_float_array(age, "age")
    for name, arr in (("frequency", x), ("recency", tx), ("age", age_arr)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not (x.shape == tx.shape == age_arr.shape):
        raise ValueError(
            "frequency, recency and age must have the same length, got "
            f"{x.shape[0]}, {tx.shape[0]} and {age_arr.shape[0]}"
        )
    if x.shape[0] == 0:
        raise ValueError("no customers given (empty input)")
    _check_triples(x, tx, age_arr)
    return x, tx, age_arr


def _validate_broadcast(
    frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = _as_float_array(frequency, "frequency")
    tx = _as_float_array(recency, "recency")
    age_arr = _as_float_array(age, "age")
    try:
        x, tx, age_arr = np.broadcast_arrays(x, tx, age_arr)
    except ValueError:
        raise ValueError(
            "frequency, recency and age must have matching (broadcastable) shapes, got "
            f"{x.shape}, {tx.shape} and {age_arr.shape}"
        ) from None
    _check_triples(x, tx, age_arr)
    return x, tx, age_arr


def _validate_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = _as_float_array(weights, "weights")
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"weights must be one-dimensional with length {n}, got shape {w.shape}")
    if np.any(w < 0):
        raise ValueError("weights must be >= 0 (they count customers)")
    if not np.sum(w) > 0:
        raise ValueError("weights sum to zero: no customers to fit")
    return w


def _validate_horizon(horizon: ArrayLike) -> FloatArray:
    h = _as_float_array(horizon, "horizon")
    if np.any(h < 0):
        raise ValueError("horizon must be >= 0")
    return h


# --------------------------------------------------------------------------------------------
# Likelihood
# --------------------------------------------------------------------------------------------


class _Objective:
    """Weighted BG/NBD log-likelihood and its gradient on fixed data.

    Terms that depend on ``x`` alone are aggregated over the distinct values of ``x``
    (a few hundred at most), so one evaluation costs a handful of vector operations.
    """

    def __init__(self, x: FloatArray, tx: FloatArray, age: FloatArray, w: FloatArray) -> None:
        keep = w > 0
        self.x = x[keep]
        self.tx = tx[keep]
        self.age = age[keep]
        self.w = w[keep]
        self.total_w = float(np.sum(self.w))
        self.pos = self.x > 0
        # b + x - 1 is only used where x > 0; substitute x = 1 elsewhere to stay finite.
        self.x_m1 = np.maximum(self.x, 1.0) - 1.0
        ux, inv = np.unique(self.x, return_inverse=True)
        self.ux = ux
        self.wx = np.bincount(inv.ravel(), weights=self.w, minlength=ux.shape[0])

    def log_likelihood(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Return the total log-likelihood and its gradient w.r.t. (r, alpha, a, b)."""
        r, alpha, a, b = (float(v) for v in theta)
        ux, wx, w, x = self.ux, self.wx, self.w, self.x
        total_w = self.total_w

        # Terms in x only, aggregated over distinct x.
        x_terms = (
            _scipy_special().gammaln(r + ux)
            - _scipy_special().gammaln(r)
            + _scipy_special().betaln(a, b + ux)
            - _scipy_special().betaln(a, b)
        )
        ll = float(np.dot(wx, x_terms)) + total_w * r * math.log(alpha)

        # Two-branch mixture, combined with log-sum-exp.
        log_a_t = np.log(alpha + self.age)
        log_a_tx = np.log(alpha + self.tx)
        r_x = r + x
        l3 = -r_x * log_a_t
        l4 = np.where(self.pos, math.log(a) - np.log(b + self.x_m1) - r_x * log_a_tx, -np.inf)
        m = np.logaddexp(l3, l4)
        ll += float(np.dot(w, m))

        w3 = np.exp(l3 - m)
        w4 = np.exp(l4 - m)
        dig_r = _scipy_special().digamma(r + ux) - _scipy_special().digamma(r)
        dig_ab = _scipy_special().digamma(a + b) - _scipy_special().digamma(a + b + ux)
        dig_b = _scipy_special().digamma(b + ux) - _scipy_special().digamma(b)
        d_r = (
            float(np.dot(wx, dig_r))
            + total_w * math.log(alpha)
            - float(np.dot(w, w3 * log_a_t + w4 * log_a_tx))
        )
        d_alpha = total_w * r / alpha - float(
            np.dot(w, r_x * (w3 / (alpha + self.age) + w4 / (alpha + self.tx)))
        )
        sum_w4 = float(np.dot(w, w4))
        d_a = float(np.dot(wx, dig_ab)) + sum_w4 / a
        d_b = float(np.dot(wx, dig_b + dig_ab)) - float(np.dot(w, w4 / (b + self.x_m1)))
        return ll, np.array([d_r, d_alpha, d_a, d_b], dtype=np.float64)


def bgnbd_log_likelihood(
    params: BGNBDParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    *,
    weights: ArrayLike | None = None,
) -> float:
    """Total BG/NBD log-likelihood of the customers under ``params`` (paper, eq. 6).

    Promises a finite float for valid input; with ``weights`` each triple counts that many
    times. Raises ``ValueError`` on invalid input (see :func:`fit_bgnbd`).
    """
    x, tx, age_arr = _validate_1d(frequency, recency, age)
    w = _validate_weights(weights, x.shape[0])
    theta = np.array(params.as_tuple(), dtype=np.float64)
    ll, _ = _Objective(x, tx, age_arr, w).log_likelihood(theta)
    return ll


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


def _start_points(obj: _Objective) -> list[FloatArray]:
    """Start values in log space (time already scaled so that the mean age is 1)."""
    total_x = float(np.dot(obj.w, obj.x))
    total_t = float(np.dot(obj.w, obj.age))
    rate = total_x / total_t if total_x > 0 and total_t > 0 else 1.0
    starts = []
    for r0, a0, b0 in ((1.0, 1.0, 1.0), (0.3, 0.7, 2.5)):
        alpha0 = min(max(r0 / rate, 1e-3), 1e3)
        starts.append(np.log(np.array([r0, alpha0, a0, b0], dtype=np.float64)))
    return starts


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> BGNBDParams:
    """Maximum-likelihood fit of the BG/NBD parameters ``(r, alpha, a, b)``.

    ``frequency`` (repeat purchases, whole numbers), ``recency`` (time of the last purchase
    since the first) and ``age`` (time since the first purchase) are equal-length 1-D arrays
    in one consistent time unit; ``alpha`` comes back in that unit. ``weights`` (optional)
    counts customers sharing a triple, so a fit on :func:`group_customers` output with its
    ``counts`` equals the fit on the ungrouped data.

    ``penalizer`` >= 0 adds ``penalizer * sum(log(theta)**2)`` to the mean negative
    log-likelihood, where ``theta = (r, alpha / mean_age, a, b)``; it shrinks the parameters
    towards 1 (``alpha`` towards the mean customer age) and is unit-free. 0 means plain ML.

    The optimisation runs L-BFGS-B with an analytic gradient on log-parameters (time scaled
    to mean age 1, box ``[1e-8, 1e8]``), from two start points, bounded to 1,000 iterations
    each. Raises ``ValueError`` for invalid input (empty, mismatched lengths, NaN/inf,
    negative values, fractional frequency, recency > age, recency > 0 with frequency 0,
    negative or all-zero weights, negative penalizer). Never raises for a failed
    optimisation: the result then has ``converged=False`` and an explaining ``message``;
    the returned numbers are always finite.
    """
    x, tx, age_arr = _validate_1d(frequency, recency, age)
    w = _validate_weights(weights, x.shape[0])
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise ValueError(f"penalizer must be finite and >= 0, got {penalizer!r}")

    total_w = float(np.sum(w))
    mean_age = float(np.dot(w, age_arr)) / total_w
    scale = mean_age if mean_age > 0 else 1.0
    obj = _Objective(x, tx / scale, age_arr / scale, w)

    def fun(log_theta: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(log_theta)
        # at extreme trial parameters the terms may overflow: such a point is simply not
        # finite (handled below), not a warning for the caller
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll, grad = obj.log_likelihood(theta)
            value = -ll / total_w + penalizer * float(np.dot(log_theta, log_theta))
            g = -grad * theta / total_w + 2.0 * penalizer * log_theta
        if not (math.isfinite(value) and np.all(np.isfinite(g))):
            return math.inf, np.zeros(4)
        return value, g

    bounds = [(_LOG_LOWER, _LOG_UPPER)] * 4
    starts = _start_points(obj)
    best_x, best_fun, best_message = starts[0], math.inf, "no finite objective value"
    iterations = 0
    for start in starts:
        res = _scipy_optimize().minimize(
            fun,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": _MAX_ITER, "ftol": 1e-15, "gtol": 1e-10},
        )
        iterations += int(res.nit)
        if np.all(np.isfinite(res.x)) and float(res.fun) < best_fun:
            best_x, best_fun, best_message = res.x, float(res.fun), str(res.message)

    log_theta = np.clip(np.asarray(best_x, dtype=np.float64), _LOG_LOWER, _LOG_UPPER)
    value, grad = fun(log_theta)
    at_bound = [
        name
        for name, lt in zip(_PARAM_NAMES, log_theta, strict=True)
        if lt <= _LOG_LOWER + _BOUND_SLACK or lt >= _LOG_UPPER - _BOUND_SLACK
    ]
    # Attainable gradient accuracy scales with the size of the per-customer log-likelihood.
    grad_tol = _GRAD_TOL * max(1.0, abs(value))
    grad_norm = float(np.max(np.abs(grad))) if math.isfinite(value) else math.inf
    if not np.any((x > 0) & (w > 0)):
        converged = False
        message = (
            "no customer made a repeat purchase: the model is not identified "
            "(the likelihood only grows as r -> 0 or alpha -> infinity)"
        )
    elif at_bound:
        converged = False
        message = (
            f"parameter(s) {', '.join(at_bound)} ran to the edge of the search box: "
            "the data do not identify the model (too few repeat buyers?)"
        )
    elif grad_norm > grad_tol:
        converged = False
        message = f"optimiser stopped before the optimum (gradient {grad_norm:.2g}): {best_message}"
    else:
        converged = True
        message = "converged"

    theta = np.exp(log_theta)
    params = BGNBDParams(
        r=float(theta[0]),
        alpha=float(theta[1] * scale),
        a=float(theta[2]),
        b=float(theta[3]),
    )
    # the log-likelihood in the caller's time unit: on the scaled data, less one log(scale)
    # per repeat purchase (each purchase time is a density in time); computed this way it
    # stays finite however small or large the unit
    ll_scaled, _ = obj.log_likelihood(theta)
    ll_total = ll_scaled - float(np.dot(w, x)) * math.log(scale)
    return BGNBDParams(
        r=params.r,
        alpha=params.alpha,
        a=params.a,
        b=params.b,
        log_likelihood=ll_total,
        n_customers=round(total_w),
        converged=converged,
        message=message,
        iterations=iterations,
    )


def group_customers(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> GroupedCustomers:
    """Compress customers into unique ``(frequency, recency, age)`` triples with counts.

    Promises: ``fit_bgnbd(g.frequency, g.recency, g.age, weights=g.counts)`` equals the
    ungrouped fit, and ``per_triple[g.inverse]`` restores per-customer order. Triples come
    sorted by frequency, then recency, then age. Input is validated as for :func:`fit_bgnbd`.
    """
    x, tx, age_arr = _validate_1d(frequency, recency, age)
    n = x.shape[0]
    order = np.lexsort((age_arr, tx, x))
    xs, ts, ags = x[order], tx[order], age_arr[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (xs[1:] != xs[:-1]) | (ts[1:] != ts[:-1]) | (ags[1:] != ags[:-1])
    starts = np.flatnonzero(new)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    counts = np.diff(np.append(starts, n)).astype(np.float64)
    return GroupedCustomers(
        frequency=xs[starts], recency=ts[starts], age=ags[starts], counts=counts, inverse=inverse
    )


# --------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------


def _log_odds_dead(
    params: BGNBDParams, x: FloatArray, tx: FloatArray, age: FloatArray
) -> FloatArray:
    """log( P(dead) / P(alive) ); -inf where x == 0."""
    r, alpha, a, b = params.as_tuple()
    x_m1 = np.maximum(x, 1.0) - 1.0
    lo = math.log(a) - np.log(b + x_m1) + (r + x) * (np.log(alpha + age) - np.log(alpha + tx))
    return np.where(x > 0, lo, -np.inf)


def prob_alive(
    params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> FloatArray:
    """Probability that each customer is still active ("alive") at the end of observation.

    ``P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
    (paper, eq. 9): exactly 1 for ``x == 0``, because a BG/NBD customer can only drop out
    right after a purchase. Inputs broadcast against each other; the result has the
    broadcast shape, values in [0, 1], never NaN. Raises ``ValueError`` on invalid input.
    """
    x, tx, age_arr = _validate_broadcast(frequency, recency, age)
    alive = _scipy_special().expit(-_log_odds_dead(params, x, tx, age_arr))
    return np.asarray(alive, dtype=np.float64)


def prob_no_purchase(
    params: BGNBDParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    horizon: ArrayLike,
) -> FloatArray:
    """Probability that each customer makes NO purchase in the next ``horizon`` time units.

    Derivation. A customer who is dead at ``T`` never buys again. A customer alive at ``T``
    can only drop out right after a purchase, so she makes no purchase in ``(T, T+h]``
    exactly when her Poisson process has no event there: probability ``exp(-lambda h)``.
    Given the history and being alive, the joint likelihood in ``lambda`` is
    ``lambda^x exp(-lambda T)`` times the ``Gamma(r, alpha)`` prior, i.e. the posterior is
    ``Gamma(r + x, alpha + T)``, whose Laplace transform gives
    ``E[exp(-lambda h) | alive] = ((alpha+T)/(alpha+T+h))^(r+x)``. Hence::

        P(no purchase in h) = (1 - P_alive) + P_alive * ((alpha+T)/(alpha+T+h))^(r+x)
                            = 1 - P_alive * (1 - ((alpha+T)/(alpha+T+h))^(r+x))

    Checks: ``h = 0`` gives 1; ``h -> inf`` gives ``1 - P_alive``; ``x = 0, T = 0`` gives
    ``(alpha/(alpha+h))^r``, the NBD zero class of a brand-new customer (no one dies before
    buying). ``horizon`` broadcasts with the customer arrays (>= 0, caller's time unit).
    Values lie in [0, 1], never NaN. Raises ``ValueError`` on invalid input.
    """
    x, tx, age_arr = _validate_broadcast(frequency, recency, age)
    h = _validate_horizon(horizon)
    r, alpha, _, _ = params.as_tuple()
    p_alive = _scipy_special().expit(-_log_odds_dead(params, x, tx, age_arr))
    # log of ((alpha+T)/(alpha+T+h))^(r+x), computed as -(r+x) log1p(h/(alpha+T)).
    log_stay = -(r + x) * np.log1p(h / (alpha + age_arr))
    p_buy = p_alive * -np.expm1(log_stay)
    return np.asarray(np.clip(1.0 - p_buy, 0.0, 1.0), dtype=np.float64)


def _hyp_bracket(r: float, a: float, b: float, x: FloatArray, z: FloatArray) -> FloatArray:
    """``(a+b+x-1)/(a-1) * (1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z))``.

    Evaluated through Euler's transformation as
    ``(a+b+x-1)/(a-1) * (1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z))``, which keeps the
    hypergeometric factor moderate for large ``x``. Near ``a == 1`` (a removable singularity;
    ``|a-1| < 5e-5``) the mean of the values at ``1 -+ 1e-4`` is used (error O(1e-8)). May
    return non-finite or out-of-range values for extreme parameters; the caller checks.
    """
    if abs(a - 1.0) < 0.5e-4:
        lo = _hyp_bracket(r, 1.0 - 1e-4, b, x, z)
        hi = _hyp_bracket(r, 1.0 + 1e-4, b, x, z)
        return np.asarray(0.5 * (lo + hi), dtype=np.float64)
    c = a + b + x - 1.0
    with np.errstate(all="ignore"):
        f = _scipy_special().hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
        log_1mz = (a - 1.0) * np.log1p(-z)
        inner = -np.expm1(log_1mz) - np.exp(log_1mz) * (f - 1.0)
        return np.asarray(c / (a - 1.0) * inner, dtype=np.float64)


_QUAD_NODES, _QUAD_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _quad_bracket(r: float, a: float, b: float, x: FloatArray, s: FloatArray) -> FloatArray:
    """The same bracket as :func:`_hyp_bracket`, by quadrature over the drop-out probability.

    Given alive, the posterior is ``lambda ~ Gamma(r+x, alpha+T)`` independent of
    ``p ~ Beta(a, b+x)``, and an alive customer with ``(lambda, p)`` makes
    ``(1 - exp(-lambda p h)) / p`` purchases in expectation over ``h``. Integrating
    ``lambda`` out gives ``E_p[(1 - (1 + p s)^-(r+x)) / p]`` with ``s = h/(alpha+T)``,
    computed with 64 Gauss-Legendre nodes on the Beta quantile scale (relative error about
    1e-4). Slower than the closed form (the quantiles are computed once per distinct ``x``),
    so used only where the closed form fails; values lie in ``[0, (r+x) s]``.
    """
    q = 0.5 * (_QUAD_NODES + 1.0)
    ux, inv = np.unique(x, return_inverse=True)
    p = _scipy_special().betaincinv(a, b + ux[:, None], q[None, :])[inv.ravel()]
    k = (r + x)[:, None]
    s2 = s[:, None]
    with np.errstate(all="ignore"):
        g = np.where(p > 0, -np.expm1(-k * np.log1p(p * s2)) / p, k * s2)
    return np.asarray(0.5 * (g @ _QUAD_WEIGHTS), dtype=np.float64)


def conditional_expected_purchases(
    params: BGNBDParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    horizon: ArrayLike,
) -> FloatArray:
    """Expected number of purchases of each customer in the next ``horizon`` time units.

    Paper, eq. 10: ``P_alive * (a+b+x-1)/(a-1) *
    [1 - ((alpha+T)/(alpha+T+h))^(r+x) 2F1(r+x, b+x; a+b+x-1; h/(alpha+T+h))]``.
    The hypergeometric function is evaluated after Euler's transformation; where that fails
    for extreme parameters (non-finite or outside the bounds ``0 <= E <= P_alive (r+x)
    h/(alpha+T)``), an equivalent one-dimensional quadrature is used instead. Inputs
    broadcast; the result is finite and >= 0. Raises ``ValueError`` on invalid input.
    """
    x, tx, age_arr = _validate_broadcast(frequency, recency, age)
    h = _validate_horizon(horizon)
    x, tx, age_arr, h = np.broadcast_arrays(x, tx, age_arr, h)
    r, alpha, a, b = params.as_tuple()
    p_alive = _scipy_special().expit(-_log_odds_dead(params, x, tx, age_arr))
    z = h / (alpha + age_arr + h)
    bracket = _hyp_bracket(r, a, b, x, z)
    # E[purchases | alive] lies in [0, E[lambda | alive] h] = [0, (r+x) h/(alpha+T)].
    s = h / (alpha + age_arr)
    upper = (r + x) * s
    bad = ~(np.isfinite(bracket) & (bracket >= -1e-9 * upper) & (bracket <= upper * (1 + 1e-9)))
    if np.any(bad):
        bracket = np.array(bracket, dtype=np.float64, copy=True)
        bracket[bad] = _quad_bracket(r, a, b, x[bad], s[bad])
    value = p_alive * np.clip(bracket, 0.0, upper)
    return np.asarray(value, dtype=np.float64)


def expected_purchases(params: BGNBDParams, horizon: ArrayLike) -> FloatArray:
    """Expected repeat purchases of a new customer within ``horizon`` of the first purchase.

    Paper, eq. 9 (unconditional): ``E[X(t)] = (a+b-1)/(a-1) *
    [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``; ``horizon`` may be an array.
    """
    h = _validate_horizon(horizon)
    zero = np.zeros_like(h)
    return conditional_expected_purchases(params, zero, zero, zero, h)


# --------------------------------------------------------------------------------------------
# Stability
# --------------------------------------------------------------------------------------------


def check_fit_stability(
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    params: BGNBDParams | None = None,
    min_customers: int = DEFAULT_MIN_CUSTOMERS,
    min_repeat_buyers: int = DEFAULT_MIN_REPEAT_BUYERS,
    min_span_gaps: float = DEFAULT_MIN_SPAN_GAPS,
    min_span: float | None = None,
) -> FitStability:
    """Decide whether a shop's data support a stable BG/NBD fit, with the reason.

    Criteria, checked in this order (the first failure is the reason):

    1. at least ``min_customers`` customers (default 200);
    2. at least ``min_repeat_buyers`` customers with a repeat purchase (default 30): the
       drop-out parameters ``a, b`` are learnt from repeat buyers only;
    3. the shop is old enough: the oldest customer's age is at least ``min_span_gaps``
       (default 2) times the median repeat gap (``recency / frequency`` of repeat buyers),
       so that a typical repeat could have been observed twice; unit-free;
    4. most customers had time to come back: the median customer age is at least one median
       repeat gap (otherwise most "no repeat yet" customers are simply too new); unit-free;
    5. if ``min_span`` is given (caller's time unit), the oldest age is at least that;
    6. if ``params`` (a fit on these data) is given, it must have ``converged``.

    The observed gaps are censored by the shop's age, so 3 and 4 are lenient; they catch
    shops whose repeat buyers mostly came back late in a short history.

    Returns a :class:`FitStability` that is truthy when stable; ``reason`` is one short
    sentence for the shop owner. Raises ``ValueError`` on invalid input.
    """
    x, tx, age_arr = _validate_1d(frequency, recency, age)
    w = _validate_weights(weights, x.shape[0])
    n_customers = round(float(np.sum(w)))
    repeat = x > 0
    n_repeat = round(float(np.sum(w[repeat])))

    def verdict(stable: bool, reason: str) -> FitStability:
        return FitStability(stable, reason, n_customers, n_repeat)

    if n_customers < min_customers:
        return verdict(False, f"Only {n_customers} customers; at least {min_customers} are needed.")
    if n_repeat < min_repeat_buyers:
        return verdict(
            False,
            f"Only {n_repeat} customers bought more than once; "
            f"at least {min_repeat_buyers} are needed.",
        )
    oldest = float(np.max(age_arr[w > 0]))
    gaps = tx[repeat & (w > 0)] / x[repeat & (w > 0)]
    median_gap = _weighted_median(gaps, w[repeat & (w > 0)])
    if oldest < min_span_gaps * median_gap:
        return verdict(
            False,
            f"The shop's history ({oldest:g}) is shorter than {min_span_gaps:g} typical repeat "
            f"gaps ({median_gap:g} each).",
        )
    median_age = _weighted_median(age_arr[w > 0], w[w > 0])
    if median_age < median_gap:
        return verdict(
            False,
            f"Most customers ({median_age:g} old at the median) are newer than one typical "
            f"repeat gap ({median_gap:g}).",
        )
    if min_span is not None and oldest < min_span:
        return verdict(
            False, f"The shop's history ({oldest:g}) is shorter than the minimum {min_span:g}."
        )
    if params is not None and not params.converged:
        return verdict(False, f"The model fit did not converge: {params.message}.")
    return verdict(
        True,
        f"{n_customers} customers, {n_repeat} repeat buyers and a history of {oldest:g} "
        "are enough for a stable fit.",
    )


def _weighted_median(values: FloatArray, weights: FloatArray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    idx = int(np.searchsorted(cum, 0.5 * cum[-1]))
    return float(values[order][min(idx, values.shape[0] - 1)])
