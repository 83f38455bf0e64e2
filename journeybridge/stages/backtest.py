"""Does the at-risk flag work in this shop? A backtest on the shop's own history.

Cut the history at ``cutoff``, classify everyone as of that moment (nothing later counts: the
models are fitted on the history before the cutoff, the learned score on its own earlier
cutoffs), then look at the following ``horizon`` days: who among the buyers did not buy again?
The probability is asked for that same horizon. Report how well the churn score ranks them
(AUC), the precision and recall of the at-risk/lapsed flags, and the calibration of the
probability, side by side with three stated comparators: a ranking by days since the last
order, a fixed flag at 180 days since the last order, and a flag at the shop's own at-risk
gate (days since the last order past the 75th percentile of its repeat gaps).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Final

import numpy as np
import numpy.typing as npt

from journeybridge.model import Journey
from journeybridge.stages import Classification, Stage, StageSettings, classify_all, measure_shop
from journeybridge.stages.facts import facts_of

__all__ = ["FIXED_FLAG_DAYS", "BacktestReport", "CalibrationBin", "FlagScore", "auc",
           "backtest"]

#: The fixed comparator: flag every buyer this many days past their last order.
FIXED_FLAG_DAYS: Final = 180.0


@dataclass(frozen=True)
class FlagScore:
    """Precision and recall of a yes/no flag for "will not buy again in the horizon"."""

    flagged: int
    precision: float | None
    recall: float | None


@dataclass(frozen=True)
class CalibrationBin:
    """People whose predicted probability fell in [low, high): mean prediction vs reality."""

    low: float
    high: float
    people: int
    predicted: float
    observed: float


@dataclass
class BacktestReport:
    """The evidence, for the buyers known at the cutoff."""

    cutoff: datetime
    horizon_days: float
    buyers: int
    did_not_return: int
    model_note: str
    auc_model: float | None
    auc_recency: float | None
    flags_model: FlagScore
    flags_recency: FlagScore
    brier: float | None
    calibration: list[CalibrationBin] = field(default_factory=list)
    recency_gate_days: float = 0.0
    flags_fixed: FlagScore = field(default_factory=lambda: FlagScore(0, None, None))
    fixed_days: float = 180.0

    def lines(self) -> list[str]:
        """The report as readable lines."""
        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1%}"

        def num(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        out = [
            f"Backtest at {self.cutoff.date()} with a {self.horizon_days:.0f}-day horizon: "
            f"{self.buyers} buyers known then, {self.did_not_return} "
            f"({pct(self.did_not_return / self.buyers if self.buyers else None)}) did not buy "
            "again within the horizon.",
            f"  {self.model_note}",
            "",
            "  Compared with: buyers ranked by days since their last order; a fixed flag at "
            f"{self.fixed_days:.0f} days",
            f"  since the last order; a flag at the shop's own at-risk gate "
            f"({self.recency_gate_days:.0f} days since the last order).",
            "",
            f"  {'':<30}{'journeybridge':>14}{'days since last':>17}"
            f"{f'{self.fixed_days:.0f}-day flag':>14}{'shop gate flag':>16}",
            f"  {'ranking (AUC, 0.5 = chance)':<30}{num(self.auc_model):>14}"
            f"{num(self.auc_recency):>17}{'':>14}{'':>16}",
        ]
        flags = (self.flags_model, self.flags_fixed, self.flags_recency)
        for label, cells in (("flagged", [str(f.flagged) for f in flags]),
                             ("precision of the flag", [pct(f.precision) for f in flags]),
                             ("recall of the flag", [pct(f.recall) for f in flags])):
            out.append(f"  {label:<30}{cells[0]:>14}{'':>17}{cells[1]:>14}{cells[2]:>16}")
        if self.calibration:
            out += ["", f"  calibration of the probability (Brier score {num(self.brier)}):",
                    f"    {'predicted':<14}{'people':>8}{'mean predicted':>16}{'observed':>10}"]
            out += [f"    {b.low:.1f}-{b.high:.1f}{'':<7}{b.people:>8}{b.predicted:>16.1%}"
                    f"{b.observed:>10.1%}" for b in self.calibration]
        return out


def auc(scores: npt.NDArray[np.float64], positive: npt.NDArray[np.bool_]) -> float | None:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (ties count half). None when either class is empty."""
    n_pos = int(positive.sum())
    n_neg = int(positive.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size, dtype=np.float64)
    i = 0
    while i < scores.size:  # average ranks over ties
        j = i
        while j + 1 < scores.size and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _flags(flagged: npt.NDArray[np.bool_], positive: npt.NDArray[np.bool_]) -> FlagScore:
    hits = int((flagged & positive).sum())
    count = int(flagged.sum())
    total = int(positive.sum())
    return FlagScore(flagged=count, precision=hits / count if count else None,
                     recall=hits / total if total else None)


def backtest(
    journeys: Sequence[Journey],
    cutoff: datetime,
    horizon_days: float | None = None,
    settings: StageSettings | None = None,
    data_end: datetime | None = None,
) -> BacktestReport:
    """Classify as of ``cutoff`` and score the at-risk/lapsed decisions against what the
    buyers did in the next ``horizon_days`` (default: the settings' horizon).

    Raises ValueError when the data do not reach past the horizon (``data_end``, default the
    latest touchpoint) or there are no buyers at the cutoff."""
    settings = settings or StageSettings()
    horizon = horizon_days if horizon_days is not None else settings.horizon_days
    if settings.horizon_days != horizon:  # the probability answers the backtest's question
        settings = settings.model_copy(update={"horizon_days": float(horizon)})
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware")
    cutoff = cutoff.astimezone(timezone.utc)
    end = data_end or max((t.at for j in journeys for t in j.touchpoints), default=cutoff)
    window_end = cutoff + timedelta(days=horizon)
    if window_end > end:
        raise ValueError(f"the history ends {end.date()}, before the end of the "
                         f"{horizon:.0f}-day horizon after the cutoff ({window_end.date()}): "
                         "choose an earlier cutoff or a shorter horizon")
    results = classify_all(journeys, now=cutoff, settings=settings)
    buyers = []
    for journey, result in zip(journeys, results):
        before = facts_of(journey, cutoff)
        if before.purchases == 0:
            continue
        after = facts_of(journey, window_end)
        returned = after.purchases > before.purchases
        days_since = before.days_since_last_purchase or 0.0
        buyers.append((result, returned, days_since))
    if not buyers:
        raise ValueError(f"no buyers at {cutoff.date()}: choose a later cutoff")
    positive = np.array([not returned for _, returned, _ in buyers], dtype=np.bool_)
    recency = np.array([d for _, _, d in buyers], dtype=np.float64)
    flagged = np.array([r.stage in (Stage.AT_RISK, Stage.LAPSED) for r, _, _ in buyers],
                       dtype=np.bool_)
    rhythm = measure_shop(journeys, now=cutoff, settings=settings)
    gate = rhythm.gates.at_risk_days
    probabilities = [r.probability_no_purchase for r, _, _ in buyers]
    model_note = rhythm.model.note
    brier = None
    calibration: list[CalibrationBin] = []
    auc_model = None
    if all(p is not None for p in probabilities):
        probs = np.array(probabilities, dtype=np.float64)
        auc_model = auc(probs, positive)
        brier = float(np.mean((probs - positive.astype(np.float64)) ** 2))
        edges = np.linspace(0.0, 1.0, 11)
        for low, high in itertools.pairwise(edges):
            inside = (probs >= low) & ((probs < high) if high < 1.0 else (probs <= high))
            if inside.any():
                calibration.append(CalibrationBin(
                    low=float(low), high=float(high), people=int(inside.sum()),
                    predicted=float(probs[inside].mean()),
                    observed=float(positive[inside].mean())))
    else:
        # no probability: rank by how far past their own gate each buyer is
        auc_model = auc(np.array([_gate_ratio(r) for r, _, _ in buyers]), positive)
    return BacktestReport(
        cutoff=cutoff, horizon_days=horizon, buyers=len(buyers),
        did_not_return=int(positive.sum()), model_note=model_note,
        auc_model=auc_model, auc_recency=auc(recency, positive),
        flags_model=_flags(flagged, positive), flags_recency=_flags(recency > gate, positive),
        brier=brier, calibration=calibration, recency_gate_days=gate,
        flags_fixed=_flags(recency > FIXED_FLAG_DAYS, positive), fixed_days=FIXED_FLAG_DAYS,
    )


def _gate_ratio(result: Classification) -> float:
    facts = result.reasons[0].facts
    days = facts.get("days_since_last_purchase")
    gate = facts.get("at_risk_after_days")
    if isinstance(days, (int, float)) and isinstance(gate, (int, float)) and gate:
        return float(days) / float(gate)
    return 0.0
