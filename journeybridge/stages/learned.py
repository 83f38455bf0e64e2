"""A learned, calibrated at-risk score, trained per shop on the shop's own past.

The question is the one BG/NBD answers: the probability that a buyer places no order within
the horizon. The shop's own history is the teacher. The history is cut at earlier moments
(``cutoff``), each buyer's facts are taken as of that cutoff, and the label is what the buyer
did next: no order in the following ``h`` days. A logistic regression learns the label from
the facts, and is applied to the facts as of ``now``.

Why a logistic regression (scikit-learn), and why several cutoffs with ``log(h)`` as a
feature: a young shop cannot show a whole horizon after an early enough cutoff (CDNOW's
cohort is 39 weeks old at the paper's cut and the horizon is 39 weeks), so the label
windows are shorter than the horizon and the model must extrapolate in ``h``. A linear model
in ``log(h)`` and the logit of BG/NBD's own P(no order in h) extrapolates monotonically and
stays calibrated (the logistic loss is a proper scoring rule, so no separate isotonic or Platt
step is needed on the training windows, and such a step cannot be fitted for a horizon that
was never observed). Trees cannot extrapolate in ``h`` at all, which we measured
(benchmarks/bench_cdnow.py). The fit is deterministic (lbfgs, a fixed-seed sample when a shop
has more training rows than :data:`MAX_TRAINING_ROWS`) and costs a few seconds for a million
people.

Every column is computed from a :class:`~journeybridge.stages.table.FactsTable` with numpy,
no per-person Python, so the sync engine can score whole shops at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from journeybridge.stages.bgnbd import (
    BGNBDParams,
    check_fit_stability,
    fit_bgnbd,
    group_customers,
    prob_alive,
    prob_no_purchase,
)
from journeybridge.stages.table import DAY_US, FactsTable

__all__ = ["MAX_TRAINING_ROWS", "Drivers", "LearnedScore", "fit_learned_score"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Bools = NDArray[np.bool_]

#: Training rows beyond this are sampled (fixed seed): the fit stays a few seconds.
MAX_TRAINING_ROWS: Final = 300_000
#: Label windows as fractions of the shop's span when the span is shorter than two horizons.
_SPAN_FRACTIONS: Final = (0.25, 0.375, 0.5)
_EPS: Final = 1e-6

#: Feature names, in column order (the BG/NBD ones only when BG/NBD fits at every cutoff).
_BASE: Final = ("days_since_last", "repeat_orders", "days_as_customer", "gap_ratio",
                "average_gap", "repeat_buyer", "log_horizon")
_BG: Final = ("bgnbd_no_order", "bgnbd_alive")


@dataclass(frozen=True)
class _Buyers:
    """Purchase summary of every row at one moment ``cut_us`` (days, floats)."""

    bought: Bools
    repeat: F64      # repeat purchase days
    recency: F64     # first to last purchase day
    age: F64         # first purchase day to the cut
    since_last: F64  # days since the last purchase (exact, not whole days)


def _buyers_at(table: FactsTable, cut_us: int) -> _Buyers:
    """Every row's purchases up to and including ``cut_us`` (a prefix of each ragged row)."""
    times, owner = table.purchase_times, table.purchase_owner
    n = len(table)
    upto = times <= cut_us
    count = np.bincount(owner[upto], minlength=n).astype(np.int64)
    start = table.purchase_offsets[:-1]
    bought = count > 0
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first[bought] = times[start[bought]]
    last[bought] = times[start[bought] + count[bought] - 1]
    cut_day = cut_us // DAY_US
    first_day, last_day = first // DAY_US, last // DAY_US
    repeat = np.where(bought, count - 1, 0).astype(np.float64)
    recency = np.where(bought, last_day - first_day, 0).astype(np.float64)
    age = np.where(bought, np.maximum(cut_day - first_day, 0), 0).astype(np.float64)
    since = np.where(bought, (cut_us - last) / DAY_US, 0.0).astype(np.float64)
    return _Buyers(bought, repeat, recency, age, since)


def _bought_between(table: FactsTable, after_us: int, until_us: int) -> Bools:
    """Rows with a purchase in ``(after_us, until_us]``."""
    times = table.purchase_times
    inside = (times > after_us) & (times <= until_us)
    return np.bincount(table.purchase_owner[inside], minlength=len(table)) > 0


def _fit_bgnbd_at(b: _Buyers, min_customers: int, min_repeat: int) -> BGNBDParams | None:
    rows = b.bought
    if int(rows.sum()) < 2:
        return None
    grouped = group_customers(b.repeat[rows], b.recency[rows], b.age[rows])
    if not check_fit_stability(grouped.frequency, grouped.recency, grouped.age,
                               weights=grouped.counts, min_customers=min_customers,
                               min_repeat_buyers=min_repeat):
        return None
    params = fit_bgnbd(grouped.frequency, grouped.recency, grouped.age, weights=grouped.counts)
    return params if params.converged else None


def _logit(p: F64) -> F64:
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(q) - np.log1p(-q), dtype=np.float64)


def _features(b: _Buyers, horizon: float, params: BGNBDParams | None, rows: Bools) -> F64:
    """The feature matrix of ``rows`` (buyers) for a question over ``horizon`` days."""
    x, tx, age, since = b.repeat[rows], b.recency[rows], b.age[rows], b.since_last[rows]
    repeat = x > 0
    mean_gap = np.where(repeat, tx / np.maximum(x, 1.0), 0.0)
    ratio = np.where(repeat, since / np.maximum(mean_gap, 1.0), 0.0)
    cols = [np.log1p(since), np.log1p(x), np.log1p(age), np.log1p(ratio), np.log1p(mean_gap),
            repeat.astype(np.float64), np.full(x.shape[0], np.log(horizon))]
    if params is not None:
        cols.append(_logit(prob_no_purchase(params, x, tx, age, horizon)))
        cols.append(_logit(prob_alive(params, x, tx, age)))
    return np.column_stack(cols)


def _windows(table: FactsTable, horizon: float) -> list[tuple[int, float]]:
    """The training windows ``(cutoff, h)``: three label windows of the horizon itself when
    the history spans two horizons, else three shorter ones ending at ``now``."""
    now = table.now_us
    bought = table.purchases > 0
    if not bought.any():
        return []
    span = (now - int(table.first_purchase[bought].min())) / DAY_US
    if span >= 2 * horizon:
        return [(now - round((horizon + k * horizon / 4) * DAY_US), horizon)
                for k in range(3)]
    return [(now - round(f * span * DAY_US), f * span) for f in _SPAN_FRACTIONS
            if f * span >= 1.0]


@dataclass(frozen=True)
class Drivers:
    """Which features weigh most towards "no order" for each scored row, in words."""

    rows: I64                 # table rows that have a score
    top: NDArray[np.int8]     # per scored row: up to three feature columns, heaviest first
    values: F64               # per scored row: days since last, repeat orders, age, gap ratio,
                              # average gap, P(alive)
    names: tuple[str, ...]

    def text(self, row: int) -> str:
        """The heaviest features of table row ``row`` as a phrase ("" when it has no score)."""
        k = int(np.searchsorted(self.rows, row))
        if k >= self.rows.shape[0] or self.rows[k] != row:
            return ""
        since, repeat, age, ratio, gap, alive = self.values[k].tolist()
        words: list[str] = []
        for col in self.top[k].tolist():
            if col < 0:
                continue
            name = self.names[col]
            if name == "days_since_last":
                phrase = f"no order for {since:.0f} days"
            elif name == "gap_ratio" and repeat > 0:
                phrase = f"{ratio:.1f} times their average gap of {gap:.0f} days"
            elif name in ("repeat_orders", "repeat_buyer"):
                orders = int(repeat) + 1
                phrase = ("only one order so far" if orders == 1 else
                          f"{orders} orders before")
            elif name == "days_as_customer":
                phrase = f"a customer for {age:.0f} days"
            elif name == "average_gap" and repeat > 0:
                phrase = f"on average {gap:.0f} days between their orders"
            elif name in _BG and alive == alive:
                phrase = (f"their buying pattern gives a {alive:.0%} chance they still "
                          "shop here")
            else:
                continue
            if phrase not in words:
                words.append(phrase)
        return "; ".join(words)


@dataclass(frozen=True)
class LearnedScore:
    """The shop's fitted score (a scikit-learn pipeline), or why there is none."""

    pipeline: Any
    names: tuple[str, ...]
    uses_bgnbd: bool
    windows: tuple[tuple[int, float], ...]
    training_rows: int
    note: str

    def score(self, table: FactsTable, horizon: float, params: BGNBDParams | None
              ) -> tuple[F64, Drivers | None]:
        """P(no order within ``horizon`` days) for every buyer of ``table`` as of its
        ``now`` (NaN for people who never bought), and the features that weigh most."""
        out = np.full(len(table), np.nan, dtype=np.float64)
        b = _buyers_at(table, table.now_us)
        rows = np.flatnonzero(b.bought)
        if self.pipeline is None or rows.size == 0 or (self.uses_bgnbd and params is None):
            return out, None
        mask = b.bought
        feats = _features(b, horizon, params if self.uses_bgnbd else None, mask)
        out[rows] = self.pipeline.predict_proba(feats)[:, 1]
        scaler, model = self.pipeline[0], self.pipeline[-1]
        weight = (feats - scaler.mean_) / scaler.scale_ * model.coef_[0]
        weight[:, self.names.index("log_horizon")] = -np.inf
        top = np.argsort(-weight, axis=1, kind="stable")[:, :3].astype(np.int8)
        top[np.take_along_axis(weight, top.astype(np.intp), axis=1) <= 0] = -1
        x, tx = b.repeat[mask], b.recency[mask]
        gap = np.where(x > 0, tx / np.maximum(x, 1.0), 0.0)
        since = b.since_last[mask]
        alive = (prob_alive(params, x, tx, b.age[mask]) if params is not None and
                 self.uses_bgnbd else np.full(x.shape[0], np.nan))
        values = np.column_stack([since, x, b.age[mask],
                                  np.where(x > 0, since / np.maximum(gap, 1.0), 0.0), gap,
                                  alive])
        return out, Drivers(rows.astype(np.int64), top, values, self.names)


def _none(note: str) -> LearnedScore:
    return LearnedScore(None, (), False, (), 0, note)


def fit_learned_score(table: FactsTable, horizon: float, *, min_labelled_buyers: int,
                      min_customers_for_bgnbd: int, min_repeat_for_bgnbd: int,
                      seed: int = 0) -> LearnedScore:
    """Train the shop's score on its own past as seen from ``table.now``: features at earlier
    cutoffs, label "no order in the next h days" (see the module text). Returns a score
    without a pipeline (and a note why) when the shop is too small or too young: fewer than
    ``min_labelled_buyers`` buyers at the earliest cutoff, or fewer than 20 of either label."""
    windows = _windows(table, horizon)
    if not windows:
        return _none("no learned score: no buyers yet")
    snapshots = [_buyers_at(table, cut) for cut, _ in windows]
    labelled = int(snapshots[0].bought.sum())
    if labelled < min_labelled_buyers:
        return _none(f"no learned score: {labelled} buyers in the shop's past to learn "
                     f"from, {min_labelled_buyers} needed")
    labels = [~_bought_between(table, cut, cut + round(h * DAY_US))
              for cut, h in windows]
    positives = sum(int(y[s.bought].sum()) for y, s in zip(labels, snapshots))
    total = sum(int(s.bought.sum()) for s in snapshots)
    if min(positives, total - positives) < 20:
        return _none("no learned score: almost every buyer did the same in the shop's past "
                     "(all returned or none did), nothing to learn from")
    params = [_fit_bgnbd_at(s, min_customers_for_bgnbd, min_repeat_for_bgnbd)
              for s in snapshots]
    uses_bgnbd = all(p is not None for p in params)
    xs, ys = [], []
    for snap, (_, h), y, p in zip(snapshots, windows, labels, params):
        xs.append(_features(snap, h, p if uses_bgnbd else None, snap.bought))
        ys.append(y[snap.bought])
    features, target = np.vstack(xs), np.concatenate(ys)
    if features.shape[0] > MAX_TRAINING_ROWS:
        pick = np.sort(np.random.default_rng(seed).choice(
            features.shape[0], MAX_TRAINING_ROWS, replace=False))
        features, target = features[pick], target[pick]
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    pipeline.fit(features, target)
    names = _BASE + (_BG if uses_bgnbd else ())
    note = (f"learned at-risk score fitted on this shop's past: {features.shape[0]} "
            f"buyer snapshots at {len(windows)} earlier cutoffs")
    return LearnedScore(pipeline, names, uses_bgnbd, tuple(windows), int(features.shape[0]),
                        note)

