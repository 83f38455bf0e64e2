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
_MAX_ITER: Final = 1000
# Tolerance for recency slightly above age because of floating-point date arithmetic.
_REL_TOL: Final = 1e-9
# Repeat purchases up to which the likelihood's terms in x are summed exactly.
_MAX_SUMMED_X: Final = 100_000
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
        # the terms in x alone are finite sums over j < x (see _x_terms); below this size
        # they are summed term by term, which stays exact where lgamma differences cancel
        top = float(ux[-1]) if ux.shape[0] else 0.0
        self.steps = np.arange(int(top), dtype=np.float64) if top <= _MAX_SUMMED_X else None
        self.ux_int = ux.astype(np.intp) if self.steps is not None else None

    def _x_terms(self, r: float, a: float, b: float) -> tuple[FloatArray, ...]:
        """Per distinct x: log Gamma(r+x)/Gamma(r) + log B(a, b+x)/B(a, b), and the
        derivatives of that w.r.t. r, a and b.

        For whole x these are sums over j < x: log(r+j) - log1p(a/(b+j)), 1/(r+j),
        -1/(a+b+j) and a/((b+j)(a+b+j)). Summed so, they keep full precision when a and b
        are large (a difference of lgamma or digamma values there loses up to 10 digits,
        which is what once made the optimiser stop at a different point on every scipy
        release); for very large x the special functions are used instead."""
        special = _scipy_special()
        ux = self.ux
        if self.steps is None or self.ux_int is None:
            value = (special.gammaln(r + ux) - special.gammaln(r)
                     + special.betaln(a, b + ux) - special.betaln(a, b))
            d_r = special.digamma(r + ux) - special.digamma(r)
            d_a = special.digamma(a + b) - special.digamma(a + b + ux)
            d_b = special.digamma(b + ux) - special.digamma(b) + d_a
            return value, d_r, d_a, d_b
        j = self.steps
        zero = np.zeros(1)

        def upto(terms: FloatArray) -> FloatArray:
            return np.asarray(np.concatenate((zero, np.cumsum(terms)))[self.ux_int])

        value = upto(np.log(r + j) - np.log1p(a / (b + j)))
        d_r = upto(1.0 / (r + j))
        d_a = upto(-1.0 / (a + b + j))
        d_b = upto(a / ((b + j) * (a + b + j)))
        return value, d_r, d_a, d_b

    def log_likelihood(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Return the total log-likelihood and its gradient w.r.t. (r, alpha, a, b)."""
        r, alpha, a, b = (float(v) for v in theta)
        wx, w, x = self.wx, self.w, self.x
        total_w = self.total_w

        # Terms in x only, aggregated over distinct x.
        x_terms, dig_r, dig_ab, dig_b_ab = self._x_terms(r, a, b)
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
        d_b = float(np.dot(wx, dig_b_ab)) - float(np.dot(w, w4 / (b + self.x_m1)))
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
#
# Why the fit is parametrised as it is. In (r, alpha, a, b) the likelihood of many real shops
# has a long flat ridge: when every buyer seems to drop out with about the same probability,
# the likelihood keeps growing, ever more slowly, as a and b grow together with a/(a+b) fixed
# (the beta distribution narrows to a point). L-BFGS-B then stops somewhere on that ridge, at
# a place that depends on the floating-point details of the scipy release (its line search
# ends ABNORMAL, or "converges" with a gradient just above any fixed tolerance), and a and b
# come out as 7e5 or 9e6. The optimiser therefore works on
#
#     u = (log r, log alpha', logit mu, log kappa),  a = mu kappa,  b = (1 - mu) kappa,
#
# (alpha' = alpha / mean age), where the ridge is one coordinate, kappa, bounded by
# _KAPPA_MAX: a fit that runs to that ceiling is the model's homogeneous limit (one drop-out
# probability mu for everyone, to within a standard deviation of sqrt(mu (1-mu) / 1e6)),
# reported as converged and saying so. L-BFGS-B only finds the basin; a projected Newton
# iteration on a finite-difference Hessian of the analytic gradient then drives the
# projected gradient to rounding level, so the optimum no longer depends on where L-BFGS-B
# happened to stop, and the end-of-fit test (projected gradient, curvature) is strict.

_KAPPA_MAX: Final = 1e6
_LOGIT_BOUND: Final = 30.0
_KKT_TOL: Final = 1e-8
_NEWTON_ITER: Final = 60


def _u_bounds() -> tuple[FloatArray, FloatArray]:
    lower = np.array([_LOG_LOWER, _LOG_LOWER, -_LOGIT_BOUND, _LOG_LOWER], dtype=np.float64)
    upper = np.array([_LOG_UPPER, _LOG_UPPER, _LOGIT_BOUND, math.log(_KAPPA_MAX)],
                     dtype=np.float64)
    return lower, upper


def _theta_of(u: FloatArray) -> FloatArray:
    """(r, alpha', a, b) of the optimiser's coordinates."""
    mu = _scipy_special().expit(u[2])
    kappa = math.exp(u[3])
    return np.array([math.exp(u[0]), math.exp(u[1]), mu * kappa, (1.0 - mu) * kappa],
                    dtype=np.float64)


def _u_of(theta: FloatArray) -> FloatArray:
    """The optimiser's coordinates of (r, alpha', a, b)."""
    r, alpha, a, b = (float(v) for v in theta)
    return np.array([math.log(r), math.log(alpha), math.log(a) - math.log(b),
                     math.log(a + b)], dtype=np.float64)


class _Fit:
    """The objective in the optimiser's coordinates: mean negative log-likelihood plus the
    optional penalty, with its gradient."""

    def __init__(self, obj: _Objective, penalizer: float) -> None:
        self.obj = obj
        self.penalizer = penalizer
        self.total_w = obj.total_w

    def __call__(self, u: FloatArray) -> tuple[float, FloatArray]:
        # at extreme trial parameters the terms may overflow: such a point is simply not
        # finite (handled below), not a warning for the caller
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            theta = _theta_of(u)
            if not np.all(np.isfinite(theta) & (theta > 0)):
                return math.inf, np.zeros(4)
            ll, grad = self.obj.log_likelihood(theta)
            log_theta = np.log(theta)
            value = -ll / self.total_w + self.penalizer * float(np.dot(log_theta, log_theta))
            # d value / d log(theta)
            g_log = -grad * theta / self.total_w + 2.0 * self.penalizer * log_theta
            mu = float(_scipy_special().expit(u[2]))
            g = np.array([g_log[0], g_log[1],
                          g_log[2] * (1.0 - mu) - g_log[3] * mu,
                          g_log[2] + g_log[3]], dtype=np.float64)
        if not (math.isfinite(value) and np.all(np.isfinite(g))):
            return math.inf, np.zeros(4)
        return value, g


def _free(u: FloatArray, g: FloatArray, lower: FloatArray, upper: FloatArray) -> FloatArray:
    """Coordinates not held by a bound: a coordinate at a bound whose gradient pushes it
    outwards stays there (first-order optimality for a box)."""
    at_lower = (u <= lower + _BOUND_SLACK) & (g > 0)
    at_upper = (u >= upper - _BOUND_SLACK) & (g < 0)
    return np.asarray(~(at_lower | at_upper))


def _projected_norm(u: FloatArray, g: FloatArray, lower: FloatArray, upper: FloatArray) -> float:
    """The largest gradient component of the coordinates no bound holds (0 if none)."""
    free = _free(u, g, lower, upper)
    return float(np.max(np.abs(g[free]))) if np.any(free) else 0.0


def _hessian(fit: _Fit, u: FloatArray) -> FloatArray:
    """Central differences of the analytic gradient, symmetrised."""
    hess = np.empty((4, 4), dtype=np.float64)
    for j in range(4):
        step = 1e-5 * max(1.0, abs(float(u[j])))
        up, down = u.copy(), u.copy()
        up[j] += step
        down[j] -= step
        hess[:, j] = (fit(up)[1] - fit(down)[1]) / (2.0 * step)
    return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


def _polish(fit: _Fit, u: FloatArray, lower: FloatArray,
            upper: FloatArray) -> tuple[FloatArray, int]:
    """Projected Newton steps (Levenberg-damped where the Hessian is not positive definite)
    with a backtracking line search, until the projected gradient is at rounding level or no
    step lowers the objective. Returns the point and the iterations used."""
    u = np.clip(u, lower, upper)
    value, g = fit(u)
    iterations = 0
    for iterations in range(1, _NEWTON_ITER + 1):  # noqa: B007 - returned below
        if not math.isfinite(value):
            break
        free = _free(u, g, lower, upper)
        if not np.any(free) or _projected_norm(u, g, lower, upper) <= 1e-15 * max(1.0,
                                                                                 abs(value)):
            break
        h = _hessian(fit, u)[np.ix_(free, free)]
        if not np.all(np.isfinite(h)):
            break
        damping = 0.0
        for _ in range(30):
            try:
                step_free = np.linalg.solve(h + damping * np.eye(h.shape[0]), -g[free])
            except np.linalg.LinAlgError:
                step_free = None
            if step_free is not None and float(np.dot(step_free, g[free])) < 0:
                break
            damping = max(1e-10, 10.0 * damping)
        else:
            break
        step = np.zeros(4)
        step[free] = step_free
        improved = False
        scale = 1.0
        gradient = _projected_norm(u, g, lower, upper)
        for _ in range(40):
            trial = np.clip(u + scale * step, lower, upper)
            trial_value, trial_g = fit(trial)
            # near the optimum the objective's last digits cannot show a Newton step's
            # gain (about gradient^2 / curvature): there a step that keeps the value within
            # rounding and shrinks the gradient is taken, as a root finder would
            noise = 1e-14 * max(1.0, abs(value))
            if math.isfinite(trial_value) and (
                    trial_value < value
                    or (trial_value <= value + noise
                        and _projected_norm(trial, trial_g, lower, upper) < gradient)):
                improved = True
                u, value, g = trial, trial_value, trial_g
                break
            scale *= 0.5
        if not improved:
            break
    return u, iterations


def _start_points(obj: _Objective) -> list[FloatArray]:
    """Start values in the optimiser's coordinates (time scaled so that the mean age is 1)."""
    total_x = float(np.dot(obj.w, obj.x))
    total_t = float(np.dot(obj.w, obj.age))
    rate = total_x / total_t if total_x > 0 and total_t > 0 else 1.0
    starts = []
    for r0, a0, b0 in ((1.0, 1.0, 1.0), (0.3, 0.7, 2.5), (0.5, 0.2, 5.0)):
        alpha0 = min(max(r0 / rate, 1e-3), 1e3)
        starts.append(_u_of(np.array([r0, alpha0, a0, b0], dtype=np.float64)))
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

    The optimum is found by L-BFGS-B from three start points, the best of which is refined
    by projected Newton steps (see the comment above), so it is the same, to rounding,
    whatever scipy release runs it. ``converged`` is True when the projected gradient
    vanishes and the likelihood curves downwards around the optimum; a fit whose drop-out
    concentration ``a + b`` reaches 1e6 (every buyer drops out with the same probability)
    is converged and its ``message`` says so. Raises ``ValueError`` for invalid input
    (empty, mismatched lengths, NaN/inf, negative values, fractional frequency, recency >
    age, recency > 0 with frequency 0, negative or all-zero weights, negative penalizer).
    Never raises for a failed optimisation: the result then has ``converged=False`` and a
    one-sentence ``message``; the returned numbers are always finite.
    """
    x, tx, age_arr = _validate_1d(frequency, recency, age)
    w = _validate_weights(weights, x.shape[0])
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise ValueError(f"penalizer must be finite and >= 0, got {penalizer!r}")
    return _fit(x, tx, age_arr, w, penalizer, None)


def _fit(x: FloatArray, tx: FloatArray, age_arr: FloatArray, w: FloatArray, penalizer: float,
         starts: list[FloatArray] | None) -> BGNBDParams:
    """The fit on validated input; ``starts`` (optimiser coordinates) replace the default
    start points (tests use it to show that every start reaches the same optimum)."""
    total_w = float(np.sum(w))
    mean_age = float(np.dot(w, age_arr)) / total_w
    scale = mean_age if mean_age > 0 else 1.0
    obj = _Objective(x, tx / scale, age_arr / scale, w)
    fit = _Fit(obj, penalizer)
    lower, upper = _u_bounds()
    bounds = list(zip(lower.tolist(), upper.tolist(), strict=True))

    best_u: FloatArray | None = None
    best_value = math.inf
    iterations = 0
    for start in starts if starts is not None else _start_points(obj):
        res = _scipy_optimize().minimize(
            fit, np.clip(start, lower, upper), jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": _MAX_ITER, "ftol": 1e-12, "gtol": 1e-9},
        )
        iterations += int(res.nit)
        candidate = np.asarray(res.x, dtype=np.float64)
        if not np.all(np.isfinite(candidate)):
            continue
        value = fit(candidate)[0]
        if value < best_value:
            best_u, best_value = candidate, value
    if best_u is None:
        best_u = np.clip(_start_points(obj)[0], lower, upper)
    u, steps = _polish(fit, best_u, lower, upper)
    iterations += steps
    value, grad = fit(u)
    converged, message = _verdict(fit, u, value, grad, lower, upper, x, w)

    theta = _theta_of(u)
    # the log-likelihood in the caller's time unit: on the scaled data, less one log(scale)
    # per repeat purchase (each purchase time is a density in time); computed this way it
    # stays finite however small or large the unit
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        ll_scaled, _ = obj.log_likelihood(theta)
    ll_total = ll_scaled - float(np.dot(w, x)) * math.log(scale)
    return BGNBDParams(
        r=float(theta[0]),
        alpha=float(theta[1] * scale),
        a=float(theta[2]),
        b=float(theta[3]),
        log_likelihood=ll_total,
        n_customers=round(total_w),
        converged=converged,
        message=message,
        iterations=iterations,
    )


def _verdict(fit: _Fit, u: FloatArray, value: float, grad: FloatArray, lower: FloatArray,
             upper: FloatArray, x: FloatArray, w: FloatArray) -> tuple[bool, str]:
    """Whether ``u`` is a well-identified optimum, with a one-sentence message."""
    if not np.any((x > 0) & (w > 0)):
        return False, ("no customer made a repeat purchase: the model is not identified "
                       "(the likelihood only grows as r -> 0 or alpha -> infinity)")
    if not math.isfinite(value):
        return False, "the likelihood is not finite anywhere the search went"
    edge = [name for name, lo, hi, coord in zip(("r", "alpha", "a/(a+b)", "a+b"), lower,
                                                upper, u, strict=True)
            if coord <= lo + _BOUND_SLACK or (coord >= hi - _BOUND_SLACK and name != "a+b")]
    if edge:
        return False, (f"{', '.join(edge)} ran to the edge of the search box: the data do "
                       "not identify the model (too few repeat buyers?)")
    free = _free(u, grad, lower, upper)
    gradient = _projected_norm(u, grad, lower, upper)
    if gradient > _KKT_TOL * max(1.0, abs(value)):
        return False, f"the optimiser stopped before the optimum (gradient {gradient:.1g})"
    curvature = np.linalg.eigvalsh(_hessian(fit, u)[np.ix_(free, free)]) if np.any(free) else [1]
    if not np.all(np.isfinite(curvature)) or float(np.min(curvature)) <= 0:
        return False, "the likelihood is flat around the optimum: the data do not identify it"
    if u[3] >= upper[3] - _BOUND_SLACK:
        return True, ("converged; every buyer drops out with about the same probability "
                      f"(a + b at its ceiling of {_KAPPA_MAX:g})")
    return True, "converged"


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
