"""A shop's own repurchase clock: the distribution of gaps between repeat purchases, and the
gates derived from it. A coffee shop and a mattress shop get different gates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from journeybridge.stages.bgnbd import (
    BGNBDParams,
    check_fit_stability,
    fit_bgnbd,
    group_customers,
    prob_no_purchase,
)
from journeybridge.stages.facts import PersonFacts
from journeybridge.stages.settings import StageSettings

__all__ = ["ChurnModel", "GapGates", "churn_probabilities", "fit_churn_model", "gap_gates"]


@dataclass(frozen=True)
class GapGates:
    """Days since the last purchase after which a buyer may be at risk / lapsed, and where the
    numbers come from (``measured`` False means the defaults were used)."""

    at_risk_days: float
    lapsed_days: float
    repeat_gaps: int
    median_gap_days: float | None
    measured: bool

    def describe(self) -> str:
        """One sentence for reasons: where the gates come from."""
        if self.measured:
            return (f"in this shop 75% of repeat orders come within {self.at_risk_days:.0f} days "
                    f"and 90% within {self.lapsed_days:.0f} days "
                    f"({self.repeat_gaps} repeat orders measured)")
        return (f"this shop has too few repeat orders ({self.repeat_gaps}) to measure its own "
                f"rhythm, so the defaults apply: at risk after {self.at_risk_days:.0f} days, "
                f"lapsed after {self.lapsed_days:.0f}")


def gap_gates(people: Iterable[PersonFacts], settings: StageSettings) -> GapGates:
    """The at-risk and lapsed gates from the shop's repeat-purchase gaps at the configured
    percentiles; the configured defaults when there are fewer than ``min_repeat_gaps``."""
    gaps: list[float] = []
    for facts in people:
        gaps.extend(facts.gaps_days())
    if len(gaps) < settings.min_repeat_gaps:
        return GapGates(settings.default_at_risk_days, settings.default_lapsed_days, len(gaps),
                        float(np.median(gaps)) if gaps else None, measured=False)
    values = np.asarray(gaps, dtype=np.float64)
    at_risk = float(np.percentile(values, settings.at_risk_percentile))
    lapsed = float(np.percentile(values, settings.lapsed_percentile))
    return GapGates(max(at_risk, 1.0), max(lapsed, at_risk, 1.0), len(gaps),
                    float(np.median(values)), measured=True)


@dataclass(frozen=True)
class ChurnModel:
    """The shop's fitted BG/NBD model (time unit: days), or why there is none."""

    params: BGNBDParams | None
    note: str
    buyers: int

    def probability(self, facts: PersonFacts, horizon_days: float) -> float | None:
        """P(no purchase within ``horizon_days``) for one buyer; None without a model or for a
        person who never bought."""
        if self.params is None or facts.first_purchase is None:
            return None
        x, t_x, age = _rft(facts)
        return float(prob_no_purchase(self.params, x, t_x, age, horizon_days)[()])


def _rft(facts: PersonFacts) -> tuple[float, float, float]:
    """BG/NBD's (frequency, recency, age) in days for a buyer: repeat purchase days, time from
    the first to the last purchase day, time from the first purchase day to now."""
    first, last = facts.purchase_days[0], facts.purchase_days[-1]
    age = max((facts.now.date() - first).days, 0)
    return float(facts.purchases - 1), float((last - first).days), float(age)


def fit_churn_model(people: Sequence[PersonFacts], settings: StageSettings) -> ChurnModel:
    """Fit BG/NBD on the shop's buyers when the data support a stable fit; otherwise say why
    (the classifier then falls back to the gap gates alone)."""
    buyers = [f for f in people if f.first_purchase is not None]
    if len(buyers) < 2:
        return ChurnModel(None, f"no churn model: only {len(buyers)} buyer(s); the gap gates "
                                "alone decide", len(buyers))
    triples = np.array([_rft(f) for f in buyers], dtype=np.float64)
    x, t_x, age = triples[:, 0], triples[:, 1], triples[:, 2]
    grouped = group_customers(x, t_x, age)
    stability = check_fit_stability(grouped.frequency, grouped.recency, grouped.age,
                                    weights=grouped.counts,
                                    min_customers=settings.min_customers_for_fit,
                                    min_repeat_buyers=settings.min_repeat_buyers_for_fit)
    if not stability:
        return ChurnModel(None, f"no churn model: {stability.reason}; the gap gates alone "
                                "decide", len(buyers))
    params = fit_bgnbd(grouped.frequency, grouped.recency, grouped.age, weights=grouped.counts)
    if not params.converged:
        return ChurnModel(None, f"no churn model: the BG/NBD fit did not converge "
                                f"({params.message}); the gap gates alone decide", len(buyers))
    note = (f"churn model (BG/NBD) fitted on this shop's {len(buyers)} buyers: "
            f"r={params.r:.3g}, alpha={params.alpha:.3g}, a={params.a:.3g}, b={params.b:.3g}")
    return ChurnModel(params, note, len(buyers))


def churn_probabilities(model: ChurnModel, people: Sequence[PersonFacts],
                        horizon_days: float) -> list[float | None]:
    """P(no purchase within the horizon) for each person (None for non-buyers or without a
    model), computed in one vectorised pass."""
    out: list[float | None] = [None] * len(people)
    if model.params is None:
        return out
    index = [i for i, f in enumerate(people) if f.first_purchase is not None]
    if not index:
        return out
    triples = np.array([_rft(people[i]) for i in index], dtype=np.float64)
    probs = prob_no_purchase(model.params, triples[:, 0], triples[:, 1], triples[:, 2],
                             horizon_days)
    for i, p in zip(index, probs.tolist()):
        out[i] = float(p)
    return out
