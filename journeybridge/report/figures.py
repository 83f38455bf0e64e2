"""The journey report's figures, computed purely from journeys, their classifications as of
``now``, and the state store's transition log. Nothing here reads a shop, a store or a clock:
:func:`compute_figures` is a function of its arguments.

What each section counts (the HTML and the JSON report say the same in words):

* **Stages**: people per stage now, and at the end of each of the last 26 weeks. A week that
  ends before the first entry of the transition log is *recomputed from today's records*
  (stages are a pure function of ``now``, so the rules are run as of that week's end; this is
  what today's records say, not what was known then). A week after it replays the log: each
  person's stage is the ``to_stage`` of their latest logged move by the week's end. People
  whose first touchpoint is after a week's end are not counted in that week.
* **Movement**: who moved from which stage to which in the last 30 days (the log when it
  covers the 30 days, else recomputed: the stage as of 30 days ago against the stage now;
  ``(new)`` are people not known 30 days ago), and the time spent per stage: the current stay
  of everyone in it (days since ``since``) and, from the log, finished stays.
* **Funnel**: known -> cart/checkout -> first purchase -> second purchase -> advocate, per
  monthly cohort of the first touchpoint. The steps are nested: a person reaches a step only
  after reaching every step before it. Cart/checkout is the first saved cart or order of any
  status; advocate is the first moment at or after the second purchase when the person had an
  approved review of at least ``advocacy_min_rating`` stars written after their first purchase,
  or ``advocacy_min_orders`` purchases.
* **Recovery**: carts and checkouts abandoned (a saved cart without an order, or an order not
  paid within ``abandoned_after_hours`` of being placed) in the last 180 days; of those with an
  e-mail address, how many were followed by a paid order of the same person within 1, 5, 7 and
  30 days of the cart or checkout (only abandonments whose window has fully passed count for
  that window).
* **Retention**: buyers by the month of their first purchase (last 12 months) and the share of
  them with a paid purchase in each later month (calendar months, UTC; the current month is
  partial).
* **Pain points**: failed payments and what followed (a paid order within 7 days, later, or
  not since), refunds and cancellations, in the last 90 days and ever.
* **RFM**: buyers per named RFM group (:mod:`journeybridge.stages.rfm`).
* **Next actions**: open next actions by kind, when the caller computed them.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from journeybridge.model import Journey, OrderStatus, TouchpointKind
from journeybridge.stages import Classification, StageSettings, stages_at
from journeybridge.stages.facts import PersonFacts, facts_of, status_as_of
from journeybridge.stages.phases import VOCABULARIES, Stage
from journeybridge.stages.rfm import RFM_GROUPS, RfmScore, rfm_cuts, rfm_scores

__all__ = [
    "FUNNEL_STEPS",
    "RECOVERY_DEFINITIONS",
    "Figures",
    "TransitionLike",
    "compute_figures",
]

HISTORY_WEEKS = 26
MOVEMENT_DAYS = 30
RECOVERY_PERIOD_DAYS = 180
RETENTION_MONTHS = 12
FUNNEL_COHORTS = 12
PAIN_RECENT_DAYS = 90
FAILED_FOLLOW_DAYS = 7
CITED_RECOVERY_RATE = 0.10
""""About 10% of abandoners come back", as the project's source material puts it."""

FUNNEL_STEPS = ("known", "cart or checkout", "first purchase", "second purchase", "advocate")

RECOVERY_DEFINITIONS: tuple[tuple[int, str, str], ...] = (
    (1, "Metorik", "the same cart completed, or the recovery link clicked and an order "
                   "placed, within 1 day"),
    (5, "Klaviyo", "an order placed within 5 days of opening or clicking a reminder"),
    (7, "Omnisend", "an order placed within 7 days of opening or clicking a reminder e-mail"),
    (30, "Mailchimp", "an order placed within 30 days of clicking a reminder"),
)
"""Each recovery window (days), the tool that uses it and that tool's own definition. The
report counts any paid order of the same person in the window (journeybridge sees no e-mail
opens or clicks), so its rates are a baseline to read beside each tool's."""

_DAY = timedelta(days=1)
_ABANDONED = (OrderStatus.CHECKOUT_STARTED, OrderStatus.PENDING_PAYMENT, OrderStatus.ON_HOLD,
              OrderStatus.FAILED)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class StageCount(_Model):
    """People in one stage."""

    stage: str
    label: str
    people: int


class WeekRow(_Model):
    """People per stage at the end of one week; ``source`` is ``"recomputed"`` (from today's
    records) or ``"log"`` (the transition log)."""

    week_end: date
    source: str
    counts: dict[str, int]


class StageStay(_Model):
    """Time spent in one stage: the current stay of the people in it, and finished stays."""

    stage: str
    label: str
    people_now: int
    median_days_now: float | None
    finished_stays: int
    median_days_finished: float | None


class StagesSection(_Model):
    """People per stage now and week by week."""

    now: list[StageCount]
    weeks: list[WeekRow]
    recomputed_weeks: int
    logged_weeks: int
    log_starts: datetime | None


class MovementSection(_Model):
    """Moves between stages in the last ``days`` days: ``matrix[i][j]`` people from
    ``rows[i]`` to ``columns[j]``; ``source`` says where they came from."""

    days: int
    source: str
    rows: list[str]
    columns: list[str]
    matrix: list[list[int]]
    moved: int
    stayed: int
    stays: list[StageStay]


class FunnelStep(_Model):
    """People who reached one step, as a share of the step before, and the median days from
    the step before."""

    step: str
    people: int
    conversion: float | None
    median_days: float | None


class FunnelCohort(_Model):
    """The funnel of the people first seen in one month (``"all"``: everyone)."""

    cohort: str
    steps: list[FunnelStep]


class FunnelSection(_Model):
    """The funnel overall and per monthly cohort (newest first)."""

    overall: FunnelCohort
    cohorts: list[FunnelCohort]


class RecoveryWindow(_Model):
    """Abandonments (of people with an e-mail) whose ``days`` have passed, and how many were
    followed by a paid order within them."""

    days: int
    tool: str
    definition: str
    eligible: int
    recovered: int
    rate: float | None


class RecoverySection(_Model):
    """Abandoned carts and checkouts in the last ``period_days`` days and their recovery."""

    period_days: int
    abandoned_after_hours: float
    abandoned_carts: int
    abandoned_checkouts: int
    with_email: int
    without_email: int
    abandoners: int
    windows: list[RecoveryWindow]
    cited_rate: float


class RetentionCohort(_Model):
    """Buyers whose first purchase was in ``cohort`` and the share of them buying again in
    each later month (``shares[m-1]`` for month m; None where that month has not begun)."""

    cohort: str
    buyers: int
    shares: list[float | None]


class RetentionSection(_Model):
    """Repeat-purchase retention by first-purchase month, newest cohort first."""

    months: int
    cohorts: list[RetentionCohort]


class PainCounts(_Model):
    """Failed payments, refunds and cancellations over one period."""

    failed_payments: int
    failed_people: int
    paid_within_7_days: int
    paid_later: int
    not_paid_since: int
    refunds: int
    refunded_orders: int
    refunded_amount: str
    cancellations: int
    cancelled_after_payment: int


class PainSection(_Model):
    """Pain points in the last ``recent_days`` days and ever."""

    recent_days: int
    recent: PainCounts
    ever: PainCounts


class RfmRow(_Model):
    """Buyers in one RFM group and their average values."""

    group: str
    people: int
    share: float
    mean_recency_days: float | None
    mean_purchases: float | None
    mean_spent: float | None


class RfmSection(_Model):
    """Buyers per RFM group, with the shop's quintile cut points."""

    buyers: int
    recency_cuts: list[float]
    purchase_cuts: list[float]
    spent_cuts: list[float]
    groups: list[RfmRow]


class ActionsSection(_Model):
    """Open next actions by kind; ``computed`` is false when none were given."""

    computed: bool
    by_kind: dict[str, int]


class Figures(_Model):
    """Every figure of the journey report, as of ``now``."""

    shop: str
    now: datetime
    people: int
    segment: str | None
    stages: StagesSection
    movement: MovementSection
    funnel: FunnelSection
    recovery: RecoverySection
    retention: RetentionSection
    pain: PainSection
    rfm: RfmSection
    actions: ActionsSection


class TransitionLike(Protocol):
    """What the figures read of a logged move (see :class:`journeybridge.state.Transition`):
    ``person_key``, ``from_stage`` (None for a first stage), ``to_stage``, ``since`` (ISO
    date the stage began) and ``at`` (ISO time of the run that saw it)."""

    @property
    def person_key(self) -> str: ...
    @property
    def from_stage(self) -> str | None: ...
    @property
    def to_stage(self) -> str: ...
    @property
    def since(self) -> str: ...
    @property
    def at(self) -> str: ...


# -- helpers -------------------------------------------------------------------------------------

def _median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 1) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _month(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


def _month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _first_touch(journey: Journey) -> datetime | None:
    return journey.touchpoints[0].at if journey.touchpoints else None


def _known_by(first: datetime | None, moment: datetime) -> bool:
    return first is None or first <= moment


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(timezone.utc)


def _parse_at(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# -- stages --------------------------------------------------------------------------------------

StagesAt = Callable[[datetime], Sequence[Stage]]


def _stages(journeys: Sequence[Journey], results: Sequence[Classification], keep: set[int],
            now: datetime, transitions: Sequence[TransitionLike], labels: Mapping[str, str],
            classify_at: StagesAt) -> StagesSection:
    counts = Counter(results[i].stage.value for i in keep)
    now_rows = [StageCount(stage=s.value, label=labels[s.value], people=counts.get(s.value, 0))
                for s in Stage]
    keys = {journeys[i].key for i in keep}
    firsts = [_first_touch(j) for j in journeys]
    moves = sorted((t for t in transitions if t.person_key in keys), key=lambda t: t.at)
    log_starts = _parse_at(moves[0].at) if moves else None
    ends = [now - timedelta(weeks=k) for k in range(HISTORY_WEEKS - 1, -1, -1)]
    weeks: list[WeekRow] = []
    current: dict[str, str] = {}
    pointer = 0
    for end in ends:
        while pointer < len(moves) and _parse_at(moves[pointer].at) <= end:
            current[moves[pointer].person_key] = moves[pointer].to_stage
            pointer += 1
        if end == now:
            week = {s.value: counts.get(s.value, 0) for s in Stage}
            source = "log" if log_starts is not None and log_starts <= end else "recomputed"
        elif log_starts is not None and log_starts <= end:
            tally = Counter(current.values())
            week = {s.value: tally.get(s.value, 0) for s in Stage}
            source = "log"
        else:
            then = classify_at(end)
            tally = Counter(then[i].value for i in keep if _known_by(firsts[i], end))
            week = {s.value: tally.get(s.value, 0) for s in Stage}
            source = "recomputed"
        weeks.append(WeekRow(week_end=end.date(), source=source, counts=week))
    return StagesSection(now=now_rows, weeks=weeks,
                         recomputed_weeks=sum(1 for w in weeks if w.source == "recomputed"),
                         logged_weeks=sum(1 for w in weeks if w.source == "log"),
                         log_starts=log_starts)


def _movement(journeys: Sequence[Journey], results: Sequence[Classification], keep: set[int],
              now: datetime, transitions: Sequence[TransitionLike], labels: Mapping[str, str],
              classify_at: StagesAt) -> MovementSection:
    stages = [s.value for s in Stage]
    rows = ["(new)", *stages]
    index = {name: i for i, name in enumerate(rows)}
    matrix = [[0] * len(stages) for _ in rows]
    start = now - timedelta(days=MOVEMENT_DAYS)
    keys = {journeys[i].key for i in keep}
    moves = [t for t in transitions if t.person_key in keys]
    covered = bool(moves) and min(_parse_at(t.at) for t in moves) <= start
    moved = stayed = 0
    if covered:
        source = "log"
        for t in moves:
            at = _parse_at(t.at)
            if start < at <= now and t.from_stage is not None and t.from_stage in index \
                    and t.to_stage in index:
                matrix[index[t.from_stage]][stages.index(t.to_stage)] += 1
                moved += 1
        movers = {t.person_key for t in moves if start < _parse_at(t.at) <= now
                  and t.from_stage is not None}
        logged_before = {t.person_key for t in moves if _parse_at(t.at) <= start}
        stayed = sum(1 for i in keep if journeys[i].key in logged_before
                     and journeys[i].key not in movers)
    else:
        source = "recomputed"
        then = classify_at(start)
        for i in keep:
            was = then[i].value if _known_by(_first_touch(journeys[i]), start) \
                else "(new)"
            now_stage = results[i].stage.value
            if was == now_stage:
                stayed += 1
                continue
            matrix[index[was]][stages.index(now_stage)] += 1
            moved += 1
    return MovementSection(days=MOVEMENT_DAYS, source=source, rows=rows, columns=stages,
                           matrix=matrix, moved=moved, stayed=stayed,
                           stays=_stays(results, keep, now, moves, labels))


def _stays(results: Sequence[Classification], keep: set[int], now: datetime,
           moves: Sequence[TransitionLike], labels: Mapping[str, str]) -> list[StageStay]:
    current: dict[str, list[float]] = defaultdict(list)
    for i in keep:
        current[results[i].stage.value].append(max((now - results[i].since) / _DAY, 0.0))
    finished: dict[str, list[float]] = defaultdict(list)
    by_person: dict[str, list[TransitionLike]] = defaultdict(list)
    for t in moves:
        by_person[t.person_key].append(t)
    for person_moves in by_person.values():
        person_moves.sort(key=lambda t: t.at)
        for entered, left in itertools.pairwise(person_moves):
            days = (date.fromisoformat(left.since[:10]) - date.fromisoformat(entered.since[:10])
                    ).days
            finished[entered.to_stage].append(float(max(days, 0)))
    return [StageStay(stage=s.value, label=labels[s.value], people_now=len(current[s.value]),
                      median_days_now=_median(current[s.value]),
                      finished_stays=len(finished[s.value]),
                      median_days_finished=_median(finished[s.value])) for s in Stage]


# -- funnel --------------------------------------------------------------------------------------

def _funnel_times(journey: Journey, facts: PersonFacts, settings: StageSettings
                  ) -> list[datetime | None]:
    """The moment each funnel step was reached (None: not reached), nested."""
    known = facts.known_since
    intents = [c.created_at for c in journey.carts if c.created_at <= facts.now]
    intents += [o.order.created_at for o in facts.orders]
    cart = min(intents) if intents else None
    purchases = facts.purchase_times
    first = purchases[0] if purchases else None
    second = purchases[1] if len(purchases) > 1 else None
    advocate = None
    if first is not None and second is not None:
        moments = [r.created_at for r in facts.reviews
                   if r.approved and r.rating >= settings.advocacy_min_rating
                   and r.created_at >= first]
        if len(purchases) >= settings.advocacy_min_orders:
            moments.append(purchases[settings.advocacy_min_orders - 1])
        if moments:
            advocate = max(min(moments), second)
    times: list[datetime | None] = [known, cart, first, second, advocate]
    for k in range(1, len(times)):  # nested: no step without the one before
        if times[k - 1] is None:
            times[k] = None
        elif times[k] is not None:
            earlier = times[k - 1]
            assert earlier is not None
            times[k] = max(times[k], earlier)  # type: ignore[type-var]
    return times


def _funnel_of(name: str, rows: Sequence[list[datetime | None]]) -> FunnelCohort:
    steps: list[FunnelStep] = []
    previous = 0
    for k, step in enumerate(FUNNEL_STEPS):
        reached = [r for r in rows if r[k] is not None]
        gaps: list[float] = []
        if k:
            for r in reached:
                a, b = r[k - 1], r[k]
                assert a is not None
                assert b is not None
                gaps.append((b - a) / _DAY)
        steps.append(FunnelStep(step=step, people=len(reached),
                                conversion=_ratio(len(reached), previous) if k else None,
                                median_days=_median(gaps) if k else None))
        previous = len(reached)
    return FunnelCohort(cohort=name, steps=steps)


def _funnel(journeys: Sequence[Journey], facts: Sequence[PersonFacts], keep: set[int],
            now: datetime, settings: StageSettings) -> FunnelSection:
    rows = {i: _funnel_times(journeys[i], facts[i], settings) for i in keep}
    known = [r for r in rows.values() if r[0] is not None]
    by_month: dict[int, list[list[datetime | None]]] = defaultdict(list)
    for r in known:
        assert r[0] is not None
        by_month[_month(r[0])].append(r)
    latest = _month(now)
    cohorts = [_funnel_of(_month_name(m), by_month.get(m, []))
               for m in range(latest, latest - FUNNEL_COHORTS, -1)]
    return FunnelSection(overall=_funnel_of("all", known), cohorts=cohorts)


# -- recovery ------------------------------------------------------------------------------------

def _recovery(journeys: Sequence[Journey], facts: Sequence[PersonFacts], keep: set[int],
              now: datetime, settings: StageSettings) -> RecoverySection:
    after = timedelta(hours=settings.abandoned_after_hours)
    since = now - timedelta(days=RECOVERY_PERIOD_DAYS)
    carts = checkouts = with_email = without_email = 0
    people: set[str] = set()
    eligible = Counter[int]()
    recovered = Counter[int]()
    for i in sorted(keep):
        journey, person_facts = journeys[i], facts[i]
        starts: list[datetime] = []
        ordered = {o.order.cart_id for o in person_facts.orders if o.order.cart_id}
        for cart in journey.carts:
            at = cart.updated_at or cart.created_at
            if cart.order_id or cart.id in ordered or not cart.lines:
                continue
            if since <= at and at + after <= now:
                starts.append(at)
                carts += 1
        for seen in person_facts.orders:
            at = seen.order.created_at
            if not (since <= at and at + after <= now):
                continue
            status = status_as_of(seen.order, at + after)
            if status in _ABANDONED:
                starts.append(at)
                checkouts += 1
        if not starts:
            continue
        people.add(journey.key)
        if journey.person.email is None:
            without_email += len(starts)
            continue
        with_email += len(starts)
        paid = person_facts.purchase_times
        for start in starts:
            for days, _tool, _definition in RECOVERY_DEFINITIONS:
                end = start + timedelta(days=days)
                if end > now:
                    continue
                eligible[days] += 1
                if any(start < p <= end for p in paid):
                    recovered[days] += 1
    windows = [RecoveryWindow(days=days, tool=tool, definition=definition,
                              eligible=eligible[days], recovered=recovered[days],
                              rate=_ratio(recovered[days], eligible[days]))
               for days, tool, definition in RECOVERY_DEFINITIONS]
    return RecoverySection(period_days=RECOVERY_PERIOD_DAYS,
                           abandoned_after_hours=settings.abandoned_after_hours,
                           abandoned_carts=carts, abandoned_checkouts=checkouts,
                           with_email=with_email, without_email=without_email,
                           abandoners=len(people), windows=windows,
                           cited_rate=CITED_RECOVERY_RATE)


# -- retention -----------------------------------------------------------------------------------

def _retention(facts: Sequence[PersonFacts], keep: set[int], now: datetime
               ) -> RetentionSection:
    latest = _month(now)
    first_month = latest - RETENTION_MONTHS + 1
    cohorts: dict[int, list[set[int]]] = defaultdict(list)
    for i in keep:
        times = facts[i].purchase_times
        if not times:
            continue
        start = _month(times[0])
        if start < first_month:
            continue
        cohorts[start].append({_month(t) - start for t in times[1:]})
    rows: list[RetentionCohort] = []
    for month in range(latest, first_month - 1, -1):
        members = cohorts.get(month, [])
        shares: list[float | None] = []
        for offset in range(1, RETENTION_MONTHS):
            if month + offset > latest or not members:
                shares.append(None)
                continue
            shares.append(sum(1 for m in members if offset in m) / len(members))
        rows.append(RetentionCohort(cohort=_month_name(month), buyers=len(members),
                                    shares=shares))
    return RetentionSection(months=RETENTION_MONTHS, cohorts=rows)


# -- pain points ---------------------------------------------------------------------------------

def _pain_counts(journeys: Sequence[Journey], facts: Sequence[PersonFacts], keep: set[int],
                 since: datetime | None) -> PainCounts:
    failed = within = later = never = 0
    failed_people: set[str] = set()
    refunds = refunded_orders = cancellations = cancelled_paid = 0
    amount = Decimal("0")
    currencies: set[str] = set()
    for i in sorted(keep):
        journey, person_facts = journeys[i], facts[i]
        paid = person_facts.purchase_times
        for point in journey.touchpoints:
            if point.kind is not TouchpointKind.PAYMENT_FAILED or point.at > person_facts.now:
                continue
            if since is not None and point.at < since:
                continue
            failed += 1
            failed_people.add(journey.key)
            follow = [p for p in paid if p > point.at]
            if any(p <= point.at + timedelta(days=FAILED_FOLLOW_DAYS) for p in follow):
                within += 1
            elif follow:
                later += 1
            else:
                never += 1
        for seen in person_facts.orders:
            counted = [r for r in seen.refunds
                       if since is None or (r.at or seen.changed_at) >= since]
            if counted:
                refunds += len(counted)
                refunded_orders += 1
                amount += sum((r.amount for r in counted), Decimal("0"))
                currencies.add(seen.order.currency)
            if seen.status is OrderStatus.CANCELLED and \
                    (since is None or seen.changed_at >= since):
                cancellations += 1
                if seen.paid_at is not None:
                    cancelled_paid += 1
    money = f"{amount:.2f}" + (f" {sorted(currencies)[0]}" if len(currencies) == 1 else
                               (" (mixed currencies)" if currencies else ""))
    return PainCounts(failed_payments=failed, failed_people=len(failed_people),
                      paid_within_7_days=within, paid_later=later, not_paid_since=never,
                      refunds=refunds, refunded_orders=refunded_orders, refunded_amount=money,
                      cancellations=cancellations, cancelled_after_payment=cancelled_paid)


# -- RFM -----------------------------------------------------------------------------------------

def _rfm(scores: Sequence[RfmScore | None], keep: set[int], cuts: object) -> RfmSection:
    scored = [s for i, s in enumerate(scores) if i in keep and s is not None]
    groups: list[RfmRow] = []
    for name in RFM_GROUPS:
        members = [s for s in scored if s.group == name]

        def mean(values: list[float]) -> float | None:
            return round(statistics.fmean(values), 1) if values else None

        groups.append(RfmRow(group=name, people=len(members),
                             share=len(members) / len(scored) if scored else 0.0,
                             mean_recency_days=mean([s.recency_days for s in members]),
                             mean_purchases=mean([float(s.purchases) for s in members]),
                             mean_spent=mean([s.spent for s in members])))
    recency = list(getattr(cuts, "recency_days", ()))
    return RfmSection(buyers=len(scored), recency_cuts=[round(x, 1) for x in recency],
                      purchase_cuts=[round(x, 1) for x in getattr(cuts, "purchases", ())],
                      spent_cuts=[round(x, 2) for x in getattr(cuts, "spent", ())],
                      groups=groups)


# -- the whole -----------------------------------------------------------------------------------

def compute_figures(
    journeys: Sequence[Journey], results: Sequence[Classification], now: datetime, *,
    shop: str = "",
    settings: StageSettings | None = None,
    transitions: Sequence[TransitionLike] = (),
    next_actions: Mapping[str, int] | None = None,
    segment: str | None = None,
    labels: Mapping[str, str] | None = None,
    stages_then: StagesAt | None = None,
    action_kinds: Sequence[str | None] | None = None,
) -> Figures:
    """Every figure of the journey report as of ``now`` (timezone-aware), from ``journeys``,
    their ``results`` (same order, classified as of ``now``), the store's ``transitions``
    (any order; empty for a shop without a store) and ``next_actions`` (kind -> open actions;
    None when not computed) or ``action_kinds`` (each person's open action kind, None for
    none, same order as ``journeys``: counted over the people kept). ``segment`` keeps only
    the people in that segment (a configured
    segment in their classification, or an RFM group name); RFM quintiles stay the whole
    shop's. ``labels`` name the stages (default vocabulary by default). ``stages_then`` gives
    everyone's stage as of an earlier moment (default: :func:`~journeybridge.stages.stages_at`
    with ``settings``), for the weeks the log does not cover.

    Raises ValueError when ``results`` does not match ``journeys`` or ``now`` is naive."""
    moment = _utc(now)
    if len(journeys) != len(results):
        raise ValueError("journeys and results must be the same length")
    settings = settings or StageSettings()
    names = dict(labels) if labels else {s.value: VOCABULARIES["default"][s] for s in Stage}
    for s in Stage:
        names.setdefault(s.value, s.value)
    facts = [facts_of(j, moment) for j in journeys]
    cuts = rfm_cuts(facts)
    scores = rfm_scores(facts, cuts)
    if segment is None:
        keep = set(range(len(journeys)))
    else:
        keep = {i for i, r in enumerate(results)
                if segment in r.segments or (scores[i] is not None
                                             and scores[i].group == segment)}  # type: ignore[union-attr]
    cache: dict[datetime, Sequence[Stage]] = {}

    def at(when: datetime) -> Sequence[Stage]:
        if when not in cache:
            cache[when] = (stages_then(when) if stages_then is not None
                           else stages_at(journeys, when, settings))
        return cache[when]

    if action_kinds is not None:
        if len(action_kinds) != len(journeys):
            raise ValueError("action_kinds and journeys must be the same length")
        next_actions = Counter(k for i, k in enumerate(action_kinds) if i in keep and k)
    recent = moment - timedelta(days=PAIN_RECENT_DAYS)
    return Figures(
        shop=shop, now=moment, people=len(keep), segment=segment,
        stages=_stages(journeys, results, keep, moment, transitions, names, at),
        movement=_movement(journeys, results, keep, moment, transitions, names, at),
        funnel=_funnel(journeys, facts, keep, moment, settings),
        recovery=_recovery(journeys, facts, keep, moment, settings),
        retention=_retention(facts, keep, moment),
        pain=PainSection(recent_days=PAIN_RECENT_DAYS,
                         recent=_pain_counts(journeys, facts, keep, recent),
                         ever=_pain_counts(journeys, facts, keep, None)),
        rfm=_rfm(scores, keep, cuts),
        actions=ActionsSection(computed=next_actions is not None,
                               by_kind=dict(sorted((next_actions or {}).items()))),
    )
