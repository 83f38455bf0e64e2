"""RFM: recency, frequency and monetary scores of 1-5 by the shop's own quintiles, and the
usual named RFM groups. Pure: everything comes from the people's facts as of ``now``.

Only buyers (at least one paid purchase by ``now``) are scored; everyone else has no score
and no group.

The values:

* recency: days between the latest paid purchase and ``now`` (fewer is better);
* frequency: paid purchases (distinct purchase days, as the stage rules count them);
* monetary: money paid minus refunds (``total_spent``).

The scores: the shop's quintile cut points are the 20th, 40th, 60th and 80th percentiles of
each value over all buyers (linear interpolation). Frequency and monetary score
``1 + (how many cut points the value is above)``; recency scores
``1 + (how many cut points the days are at or below)``, so the most recent buyers get 5.
Ties share a score: in a shop where most people bought once, every one-time buyer has
frequency 1 and any repeat buyer scores higher.

The groups, from the scores R, F and M; the first rule that matches names the group (the rules
cover every combination, so every buyer is in exactly one group):

1. Champions: R >= 4, F >= 4 and M >= 4
2. Loyal: R >= 3 and F >= 4
3. Can't lose them: R <= 2, F >= 4 and M >= 4
4. At risk: R == 2 and F >= 3, or R == 1 and F >= 4
5. Potential loyalist: R >= 4 and F is 2 or 3
6. New: R == 5 and F == 1
7. Promising: R == 4 and F == 1
8. Need attention: R == 3 and F == 3
9. About to sleep: R == 3 and F <= 2
10. Hibernating: R == 2 and F <= 2, or R == 1 and F == 3
11. Lost: R == 1 and F <= 2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from journeybridge.stages.facts import PersonFacts

__all__ = ["RFM_GROUPS", "RfmCuts", "RfmScore", "cuts_of", "rfm_cuts", "rfm_group", "rfm_scores",
           "rfm_values", "scores_of"]

RFM_GROUPS: tuple[str, ...] = (
    "Champions", "Loyal", "Can't lose them", "At risk", "Potential loyalist", "New",
    "Promising", "Need attention", "About to sleep", "Hibernating", "Lost")
"""The RFM group names, in the order of the rules that decide them."""

_QUANTILES = (20.0, 40.0, 60.0, 80.0)


@dataclass(frozen=True)
class RfmScore:
    """One buyer's scores (1-5 each) and the group they put them in, with the raw values."""

    recency: int
    frequency: int
    monetary: int
    group: str
    recency_days: float
    purchases: int
    spent: float

    @property
    def code(self) -> str:
        """The three scores as one text, recency first (``"545"``)."""
        return f"{self.recency}{self.frequency}{self.monetary}"


@dataclass(frozen=True)
class RfmCuts:
    """The shop's quintile cut points (20th, 40th, 60th, 80th percentiles) of each value."""

    recency_days: tuple[float, ...]
    purchases: tuple[float, ...]
    spent: tuple[float, ...]


def rfm_values(facts: PersonFacts) -> tuple[float, int, float] | None:
    """(days since the latest purchase, purchases, money spent) of a buyer; None without a
    paid purchase by ``facts.now``."""
    last = facts.last_purchase
    if last is None:
        return None
    return ((facts.now - last).total_seconds() / 86_400.0, facts.purchases,
            float(facts.total_spent))


def _cuts(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(x) for x in np.percentile(np.asarray(values, dtype=float), _QUANTILES))


def rfm_cuts(people: Sequence[PersonFacts]) -> RfmCuts | None:
    """The quintile cut points over the buyers among ``people``; None without buyers."""
    return cuts_of([rfm_values(f) for f in people])


def cuts_of(inputs: Sequence[tuple[float, int, float] | None]) -> RfmCuts | None:
    """The quintile cut points over ``inputs`` (see :func:`rfm_values`; None for people
    without a purchase); None without buyers."""
    values = [v for v in inputs if v is not None]
    if not values:
        return None
    return RfmCuts(recency_days=_cuts([v[0] for v in values]),
                   purchases=_cuts([float(v[1]) for v in values]),
                   spent=_cuts([v[2] for v in values]))


def _higher_is_better(value: float, cuts: tuple[float, ...]) -> int:
    return 1 + sum(1 for cut in cuts if value > cut)


def _lower_is_better(value: float, cuts: tuple[float, ...]) -> int:
    return 1 + sum(1 for cut in cuts if value <= cut)


def rfm_group(recency: int, frequency: int, monetary: int) -> str:
    """The named group of scores R, F, M (each 1-5), by the rules in this module's
    docstring. Raises ValueError for a score outside 1-5."""
    r, f, m = recency, frequency, monetary
    if not all(1 <= s <= 5 for s in (r, f, m)):
        raise ValueError(f"RFM scores must be 1-5, got {r}{f}{m}")
    if r >= 4 and f >= 4 and m >= 4:
        return "Champions"
    if r >= 3 and f >= 4:
        return "Loyal"
    if r <= 2 and f >= 4 and m >= 4:
        return "Can't lose them"
    if (r == 2 and f >= 3) or (r == 1 and f >= 4):
        return "At risk"
    if r >= 4 and f in (2, 3):
        return "Potential loyalist"
    if r == 5:
        return "New"
    if r == 4:
        return "Promising"
    if r == 3:
        return "Need attention" if f == 3 else "About to sleep"
    if r == 2 or f == 3:
        return "Hibernating"
    return "Lost"


def rfm_scores(people: Sequence[PersonFacts], cuts: RfmCuts | None = None
               ) -> list[RfmScore | None]:
    """Each person's scores and group (None for a person without a paid purchase), against
    ``cuts`` (default: the quintiles of these same people). Same order as ``people``."""
    return scores_of([rfm_values(f) for f in people], cuts)


def scores_of(inputs: Sequence[tuple[float, int, float] | None], cuts: RfmCuts | None = None
              ) -> list[RfmScore | None]:
    """:func:`rfm_scores` from each person's :func:`rfm_values` (None: no purchase)."""
    cuts = cuts if cuts is not None else cuts_of(inputs)
    out: list[RfmScore | None] = []
    for values in inputs:
        if values is None or cuts is None:
            out.append(None)
            continue
        days, purchases, spent = values
        r = _lower_is_better(days, cuts.recency_days)
        f = _higher_is_better(float(purchases), cuts.purchases)
        m = _higher_is_better(spent, cuts.spent)
        out.append(RfmScore(r, f, m, rfm_group(r, f, m), days, purchases, spent))
    return out
