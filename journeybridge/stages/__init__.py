"""Stage classification: which customer-journey phase each person is in, since when, and why.

Stages know the journey model and nothing about HTTP. ``classify`` decides one journey;
``classify_all`` first measures the shop's own rhythm from all journeys, then decides each.
Both are pure functions of (journeys, now, settings), and both go through the one columnar
implementation of the rules (:class:`~journeybridge.stages.table.FactsTable` ->
:func:`~journeybridge.stages.rules.decide_table`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from journeybridge.model import Journey
from journeybridge.stages.facts import PersonFacts, facts_of
from journeybridge.stages.features import FEATURES, features_of
from journeybridge.stages.phases import STAGE_GUIDE, VOCABULARIES, Stage, stage_label
from journeybridge.stages.rfm import RFM_GROUPS, RfmScore, rfm_scores
from journeybridge.stages.rhythm import ChurnModel, GapGates, fit_churn_model, gap_gates
from journeybridge.stages.rules import Classification, Reason, decide_table
from journeybridge.stages.segments import Segment, SegmentRuleError, parse_segments, segments_for
from journeybridge.stages.settings import StageSettings
from journeybridge.stages.table import FactsTable

__all__ = [
    "FEATURES",
    "RFM_GROUPS",
    "STAGE_GUIDE",
    "VOCABULARIES",
    "ChurnModel",
    "Classification",
    "GapGates",
    "Reason",
    "RfmScore",
    "Segment",
    "SegmentRuleError",
    "ShopRhythm",
    "Stage",
    "StageSettings",
    "classify",
    "classify_all",
    "measure_shop",
    "parse_segments",
    "rfm_scores",
    "stage_label",
    "stages_at",
]


@dataclass(frozen=True)
class ShopRhythm:
    """What the shop's own history says about its repurchase clock, as of ``now``."""

    now: datetime
    gates: GapGates
    model: ChurnModel


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def _table(journeys: Sequence[Journey], moment: datetime, settings: StageSettings
           ) -> tuple[list[PersonFacts], FactsTable]:
    facts = [facts_of(j, moment) for j in journeys]
    return facts, FactsTable.from_facts(facts, settings, keys=[j.key for j in journeys],
                                        now=moment)


def measure_shop(
    journeys: Iterable[Journey], now: datetime | None = None,
    settings: StageSettings | None = None,
) -> ShopRhythm:
    """Measure the shop's repeat-purchase gaps (as of ``now``) for the at-risk/lapsed gates."""
    settings = settings or StageSettings()
    moment = _now(now)
    _, table = _table(list(journeys), moment, settings)
    return ShopRhythm(now=moment, gates=gap_gates(table, settings),
                      model=fit_churn_model(table, settings))


def classify(
    journey: Journey,
    now: datetime | None = None,
    settings: StageSettings | None = None,
    rhythm: ShopRhythm | None = None,
) -> Classification:
    """The stage of one journey at ``now`` (default: the current time), with its start date and
    reasons. Without a measured ``rhythm`` (see :func:`measure_shop`) the default gap gates
    apply and there is no churn probability. With the ``rhythm`` of the shop's journeys, the
    result equals that journey's result from :func:`classify_all`."""
    settings = settings or StageSettings()
    moment = _now(now)
    _, table = _table([journey], moment, settings)
    if rhythm is None:
        gates = GapGates(settings.default_at_risk_days, settings.default_lapsed_days, 0, None,
                         measured=False)
        return decide_table(table, gates, settings).classification(0)
    probabilities, drivers = rhythm.model.scores(table, settings.horizon_days)
    return decide_table(table, rhythm.gates, settings, probabilities,
                        rhythm.model.note, drivers).classification(0)


def classify_all(
    journeys: Sequence[Journey], now: datetime | None = None,
    settings: StageSettings | None = None,
    segments: Mapping[str, str] | Sequence[Segment] = (),
) -> list[Classification]:
    """Classify every journey against the shop's own rhythm, measured from the same journeys,
    and put each person in the ``segments`` (name -> rule, or parsed segments) they match.
    The result is in the order of ``journeys``; it does not depend on that order otherwise."""
    settings = settings or StageSettings()
    moment = _now(now)
    parsed = parse_segments(segments) if isinstance(segments, Mapping) else tuple(segments)
    facts, table = _table(journeys, moment, settings)
    gates = gap_gates(table, settings)
    model = fit_churn_model(table, settings)
    probabilities, drivers = model.scores(table, settings.horizon_days)
    results = decide_table(table, gates, settings, probabilities, model.note,
                           drivers).classifications()
    if parsed:
        scores = rfm_scores(facts)
        results = [
            result.model_copy(update={"segments": segments_for(
                parsed, features_of(journey, person_facts, result.stage.value, score))})
            for result, journey, person_facts, score in zip(results, journeys, facts, scores)]
    return results


def stages_at(journeys: Sequence[Journey], now: datetime | None = None,
              settings: StageSettings | None = None) -> list[Stage]:
    """Each journey's stage at ``now``, exactly as :func:`classify_all` decides it (the shop's
    rhythm measured from the same journeys), without building the reasons: for reports that
    need only the stages at many moments."""
    settings = settings or StageSettings()
    moment = _now(now)
    _, table = _table(journeys, moment, settings)
    gates = gap_gates(table, settings)
    model = fit_churn_model(table, settings)
    probabilities = model.probabilities(table, settings.horizon_days)
    return decide_table(table, gates, settings, probabilities, model.note).stages()
