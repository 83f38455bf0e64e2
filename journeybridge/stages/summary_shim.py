"""TEMPORARY stand-in for journeybridge.stages.summary (being written on another branch):
the same API, backed by the whole journey as the "summary". Removed when the real one lands."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from journeybridge.model import Journey
from journeybridge.stages import Classification, Stage, StageSettings, classify_all
from journeybridge.stages.segments import Segment

__all__ = ["PersonSummary", "ShopClassification", "classify_summaries", "summarize"]


@dataclass(frozen=True)
class PersonSummary:
    """One person's journey, as of a moment."""

    journey: Journey
    as_of: datetime
    valid_until: datetime | None = None

    def to_json(self) -> str:
        """The summary as compact JSON."""
        return self.journey.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_json(cls, text: str) -> PersonSummary:
        """A summary from :meth:`to_json`; ValueError when it does not parse."""
        try:
            journey = Journey.model_validate_json(text)
        except Exception as exc:
            raise ValueError(f"summary does not parse: {exc}") from None
        return cls(journey, datetime.min)


def summarize(journey: Journey, as_of: datetime) -> PersonSummary:
    """The summary of ``journey`` as of ``as_of``."""
    later = [t.at for t in journey.touchpoints if t.at > as_of]
    return PersonSummary(journey, as_of, min(later) if later else None)


@dataclass
class ShopClassification:
    """Every person's classification."""

    results: list[Classification]

    @property
    def stages(self) -> list[Stage]:
        """Stage per row."""
        return [r.stage for r in self.results]

    @property
    def since(self) -> list[datetime]:
        """Since per row."""
        return [r.since for r in self.results]

    @property
    def segments(self) -> list[tuple[str, ...]]:
        """Segments per row."""
        return [r.segments for r in self.results]

    @property
    def next_order_expected(self) -> list[datetime | None]:
        """When each person's next order is expected (repeat buyers), per row."""
        return [r.next_order_expected for r in self.results]

    def classification(self, row: int) -> Classification:
        """One row's classification."""
        return self.results[row]

    def classifications(self, rows: Sequence[int] | None = None) -> list[Classification]:
        """Rows' classifications."""
        return list(self.results) if rows is None else [self.results[i] for i in rows]

    def counts(self) -> dict[Stage, int]:
        """People per stage."""
        return dict(Counter(self.stages))


def classify_summaries(keys: Sequence[str], summaries: Sequence[PersonSummary], now: datetime,
                       settings: StageSettings,
                       segments: Mapping[str, str] | Sequence[Segment] = ()
                       ) -> ShopClassification:
    """Classify everyone."""
    return ShopClassification(classify_all([s.journey for s in summaries], now=now,
                                           settings=settings, segments=segments))
