"""A shop's own repurchase clock: the distribution of gaps between repeat purchases, and the
gates derived from it. A coffee shop and a mattress shop get different gates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from journeybridge.stages.facts import PersonFacts
from journeybridge.stages.settings import StageSettings

__all__ = ["GapGates", "gap_gates"]


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
