"""Stage classification: which customer-journey phase each person is in, since when, and why.

Stages know the journey model and nothing about HTTP. ``classify`` decides one journey;
``classify_all`` first measures the shop's own rhythm from all journeys, then decides each.
Both are pure functions of (journeys, now, settings).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from journeybridge.model import Journey
from journeybridge.stages.facts import PersonFacts, facts_of
from journeybridge.stages.phases import VOCABULARIES, Stage, stage_label
from journeybridge.stages.rhythm import GapGates, gap_gates
from journeybridge.stages.rules import Classification, Reason, decide
from journeybridge.stages.settings import StageSettings

__all__ = [
    "VOCABULARIES",
    "Classification",
    "GapGates",
    "Reason",
    "ShopRhythm",
    "Stage",
    "StageSettings",
    "classify",
    "classify_all",
    "measure_shop",
    "stage_label",
]


@dataclass(frozen=True)
class ShopRhythm:
    """What the shop's own history says about its repurchase clock, as of ``now``."""

    now: datetime
    gates: GapGates


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def measure_shop(
    journeys: Iterable[Journey], now: datetime | None = None,
    settings: StageSettings | None = None,
) -> ShopRhythm:
    """Measure the shop's repeat-purchase gaps (as of ``now``) for the at-risk/lapsed gates."""
    settings = settings or StageSettings()
    moment = _now(now)
    facts = [facts_of(j, moment) for j in journeys]
    return ShopRhythm(now=moment, gates=gap_gates(facts, settings))


def classify(
    journey: Journey,
    now: datetime | None = None,
    settings: StageSettings | None = None,
    rhythm: ShopRhythm | None = None,
) -> Classification:
    """The stage of one journey at ``now`` (default: the current time), with its start date and
    reasons. Without a measured ``rhythm`` the default gap gates apply."""
    settings = settings or StageSettings()
    moment = _now(now)
    gates = rhythm.gates if rhythm is not None else GapGates(
        settings.default_at_risk_days, settings.default_lapsed_days, 0, None, measured=False)
    return decide(facts_of(journey, moment), journey.key, gates, settings)


def classify_all(
    journeys: Sequence[Journey], now: datetime | None = None,
    settings: StageSettings | None = None,
) -> list[Classification]:
    """Classify every journey against the shop's own rhythm, measured from the same journeys.
    The result is in the order of ``journeys``; it does not depend on that order otherwise."""
    settings = settings or StageSettings()
    moment = _now(now)
    facts: list[PersonFacts] = [facts_of(j, moment) for j in journeys]
    gates = gap_gates(facts, settings)
    return [decide(f, j.key, gates, settings) for f, j in zip(facts, journeys)]
