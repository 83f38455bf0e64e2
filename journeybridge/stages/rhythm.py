"""A shop's own repurchase clock: the distribution of gaps between repeat purchases, and the
gates derived from it. A coffee shop and a mattress shop get different gates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from numpy.typing import NDArray

from journeybridge.stages.bgnbd import (
    BGNBDParams,
    GroupedCustomers,
    check_fit_stability,
    fit_bgnbd,
    group_customers,
    prob_no_purchase,
)
from journeybridge.stages.facts import PersonFacts
from journeybridge.stages.learned import Drivers, LearnedScore, fit_learned_score
from journeybridge.stages.settings import StageSettings
from journeybridge.stages.table import FactsTable

FloatArray = NDArray[np.float64]

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
    fulfilment_days: float = 14.0
    fulfilment_orders: int = 0

    def describe(self) -> str:
        """One sentence for reasons: where the gates come from."""
        if self.measured:
            return (f"in this shop 75% of repeat orders come within {self.at_risk_days:.0f} days "
                    f"and 90% within {self.lapsed_days:.0f} days "
                    f"({self.repeat_gaps} repeat orders measured)")
        return (f"this shop has too few repeat orders ({self.repeat_gaps}) to measure its own "
                f"rhythm, so the defaults apply: at risk after {self.at_risk_days:.0f} days, "
                f"lapsed after {self.lapsed_days:.0f}")


def gap_gates(people: FactsTable | Iterable[PersonFacts], settings: StageSettings) -> GapGates:
    """The at-risk and lapsed gates from the shop's repeat-purchase gaps at the configured
    percentiles; the configured defaults when there are fewer than ``min_repeat_gaps``.
    ``people`` is a :class:`FactsTable` (vectorised) or any iterable of facts; both give the
    same gates for the same people, in any order."""
    if not isinstance(people, FactsTable):
        facts = list(people)
        people = (FactsTable.from_facts(facts, settings) if facts else
                  FactsTable.from_facts([], settings, now=datetime.now(timezone.utc)))
    values = people.gap_days.astype(np.float64)
    fulfilment = people.fulfilment_days
    assert fulfilment is not None
    shipped = int(fulfilment.shape[0])
    prepare = settings.default_fulfilment_days
    if shipped >= settings.min_fulfilled_orders:
        prepare = max(float(np.percentile(fulfilment, 90.0)), 1.0)
    count = int(values.shape[0])
    if count < settings.min_repeat_gaps:
        return GapGates(settings.default_at_risk_days, settings.default_lapsed_days, count,
                        float(np.median(values)) if count else None, measured=False,
                        fulfilment_days=prepare, fulfilment_orders=shipped)
    at_risk = float(np.percentile(values, settings.at_risk_percentile))
    lapsed = float(np.percentile(values, settings.lapsed_percentile))
    return GapGates(max(at_risk, 1.0), max(lapsed, at_risk, 1.0), count,
                    float(np.median(values)), measured=True, fulfilment_days=prepare,
                    fulfilment_orders=shipped)


@dataclass(frozen=True)
class ChurnModel:
    """The shop's fitted BG/NBD model (time unit: days) and, where the shop's past is long and
    large enough, the score learned from it (:mod:`journeybridge.stages.learned`), or why
    there is none."""

    params: BGNBDParams | None
    note: str
    buyers: int
    learned: LearnedScore | None = None

    @property
    def is_learned(self) -> bool:
        """True when the probability comes from the learned score."""
        return self.learned is not None and self.learned.pipeline is not None

    def probability(self, facts: PersonFacts, horizon_days: float) -> float | None:
        """P(no purchase within ``horizon_days``) for one buyer; None without a model or for a
        person who never bought."""
        if facts.first_purchase is None:
            return None
        if self.is_learned:
            value = float(self.probabilities(_triples_table([facts]), horizon_days)[0])
            return None if np.isnan(value) else value
        if self.params is None:
            return None
        x, t_x, age = _rft(facts)
        return float(prob_no_purchase(self.params, x, t_x, age, horizon_days)[()])

    def scores(self, table: FactsTable, horizon_days: float
               ) -> tuple[FloatArray, Drivers | None]:
        """:meth:`probabilities` and, for the learned score, the features that weigh most for
        each buyer (None for BG/NBD alone)."""
        if self.learned is not None and self.learned.pipeline is not None:
            return self.learned.score(table, horizon_days, self.params)
        return self.probabilities(table, horizon_days), None

    def probabilities(self, table: FactsTable, horizon_days: float) -> FloatArray:
        """P(no purchase within ``horizon_days``) for every row of ``table``, NaN for people
        who never bought or without a model: the learned score where there is one, else
        BG/NBD, computed once per distinct (frequency, recency, age) triple, in one
        vectorised pass."""
        if self.learned is not None and self.learned.pipeline is not None:
            return self.learned.score(table, horizon_days, self.params)[0]
        out = np.full(len(table), np.nan, dtype=np.float64)
        triples = table.buyer_triples
        if self.params is None or triples.grouped is None:
            return out
        grouped = triples.grouped
        per_triple = prob_no_purchase(self.params, grouped.frequency, grouped.recency,
                                      grouped.age, horizon_days)
        out[triples.buyers] = per_triple[grouped.inverse]
        return out


def _rft(facts: PersonFacts) -> tuple[float, float, float]:
    """BG/NBD's (frequency, recency, age) in days for a buyer: repeat purchase days, time from
    the first to the last purchase day, time from the first purchase day to now."""
    first, last = facts.purchase_days[0], facts.purchase_days[-1]
    age = max((facts.now.date() - first).days, 0)
    return float(facts.purchases - 1), float((last - first).days), float(age)


def _grouped_buyers(people: FactsTable | Sequence[PersonFacts]) -> tuple[int, GroupedCustomers
                                                                         | None]:
    if isinstance(people, FactsTable):
        triples = people.buyer_triples
        return int(triples.buyers.shape[0]), triples.grouped
    buyers = [f for f in people if f.first_purchase is not None]
    if not buyers:
        return 0, None
    rows = np.array([_rft(f) for f in buyers], dtype=np.float64)
    return len(buyers), group_customers(rows[:, 0], rows[:, 1], rows[:, 2])


def fit_churn_model(people: FactsTable | Sequence[PersonFacts],
                    settings: StageSettings) -> ChurnModel:
    """Fit BG/NBD on the shop's buyers (grouped into distinct triples) when the data support a
    stable fit; otherwise say why (the classifier then falls back to the gap gates alone).
    ``people`` is a :class:`FactsTable` or a sequence of facts; the fit does not depend on
    their order."""
    bgnbd = _fit_bgnbd_model(people, settings)
    if not settings.learned_score:
        return bgnbd
    table = people if isinstance(people, FactsTable) else _triples_table(people)
    learned = fit_learned_score(
        table, settings.horizon_days,
        min_labelled_buyers=settings.min_buyers_for_learned_score,
        min_customers_for_bgnbd=settings.min_customers_for_fit,
        min_repeat_for_bgnbd=settings.min_repeat_buyers_for_fit)
    if learned.pipeline is None:
        note = f"{bgnbd.note}; {learned.note}"
        return ChurnModel(bgnbd.params, note, bgnbd.buyers, learned)
    return ChurnModel(bgnbd.params, learned.note, bgnbd.buyers, learned)


def _fit_bgnbd_model(people: FactsTable | Sequence[PersonFacts],
                     settings: StageSettings) -> ChurnModel:
    count, grouped = _grouped_buyers(people)
    if count < 2 or grouped is None:
        return ChurnModel(None, f"no churn model: only {count} buyer(s); the gap gates "
                                "alone decide", count)
    stability = check_fit_stability(grouped.frequency, grouped.recency, grouped.age,
                                    weights=grouped.counts,
                                    min_customers=settings.min_customers_for_fit,
                                    min_repeat_buyers=settings.min_repeat_buyers_for_fit)
    if not stability:
        why = stability.reason.rstrip(".")
        why = why[:1].lower() + why[1:]
        return ChurnModel(None, f"no churn model: {why}; the gap gates alone "
                                "decide", count)
    params = fit_bgnbd(grouped.frequency, grouped.recency, grouped.age, weights=grouped.counts)
    if not params.converged:
        return ChurnModel(None, "no churn model: the BG/NBD fit found no stable optimum on "
                                "these buyers; the gap gates alone decide", count)
    note = (f"churn model (BG/NBD) fitted on this shop's {count} buyers: "
            f"r={params.r:.3g}, alpha={params.alpha:.3g}, a={params.a:.3g}, b={params.b:.3g}")
    return ChurnModel(params, note, count)


def churn_probabilities(model: ChurnModel, people: FactsTable | Sequence[PersonFacts],
                        horizon_days: float) -> list[float | None]:
    """P(no purchase within the horizon) for each person (None for non-buyers or without a
    model), computed in one vectorised pass (see :meth:`ChurnModel.probabilities`)."""
    if not isinstance(people, FactsTable):
        if model.params is None and not model.is_learned:
            return [None] * len(people)
        people = _triples_table(people)
    values = model.probabilities(people, horizon_days)
    return [None if np.isnan(v) else v for v in values.tolist()]


def _triples_table(people: Sequence[PersonFacts]) -> FactsTable:
    """A table carrying only the purchases of ``people`` (enough for the BG/NBD triples)."""
    settings = StageSettings()
    if not people:
        return FactsTable.from_facts([], settings, now=datetime.now(timezone.utc))
    return FactsTable.from_facts(list(people), settings)
