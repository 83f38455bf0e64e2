"""The stage rules: first matching rule wins, and every decision says which rule, in a sentence a
shop owner understands, with the facts and their values.

Order of the rules, and why:

1. service   - an order shipped and not yet delivered, or a refund/cancellation after payment
               within the service window: track & trace and help reach everyone in flight.
2. purchase  - the first purchase is paid and still being prepared.
3. lapsed    - bought before; both signals say they are gone (probability and gap gate).
4. at_risk   - bought before; both signals say they are slipping.
5. advocacy  - a repeat buyer with a high-rated review within a year, or many purchases.
6. loyalty   - a repeat buyer within their rhythm.
7. purchase  - a one-time buyer within their rhythm.
8. consideration - no purchase, but a cart, an unpaid checkout, a sign-up or an opt-in within
               the consideration window.
9. awareness - any other known person.

Lapsed and at-risk come before advocacy and loyalty because an old fan who stopped buying needs
a win-back, not a thank-you. A repeat buyer with a new abandoned cart stays loyal; the cart is a
flag. Stages are recomputed from the facts at every run, so people move backwards by themselves
(a loyal customer who stops buying becomes at risk, then lapsed; a lapsed one who buys again is
a buyer again), and each stage's start date is derived from the facts, so it is stable between
runs.

The rules are implemented once, on columns: :func:`decide_table` decides every row of a
:class:`~journeybridge.stages.table.FactsTable` with numpy, and :class:`StageTable` turns a row
into a :class:`Classification` with its reasons (the only per-person Python left).
:func:`decide` is the same path for one person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict

from journeybridge.model import UtcDateTime
from journeybridge.stages.facts import PersonFacts
from journeybridge.stages.learned import Drivers
from journeybridge.stages.phases import Stage
from journeybridge.stages.rhythm import GapGates
from journeybridge.stages.settings import StageSettings
from journeybridge.stages.table import (
    DAY_US,
    NO_TIME,
    FactsTable,
    Flag,
    datetime_of,
    day_text,
    flag_names,
)

__all__ = ["Classification", "Reason", "Rule", "StageTable", "decide", "decide_table"]

FactValue = str | int | float | bool | None
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Bools = NDArray[np.bool_]


class Reason(BaseModel):
    """Why: the rule that matched, a sentence, and the facts with their values."""

    model_config = ConfigDict(frozen=True)

    rule: str
    text: str
    facts: dict[str, FactValue] = {}


class Classification(BaseModel):
    """A person's stage, since when, why, and flags for the shop's marketing tools."""

    model_config = ConfigDict(frozen=True)

    person_key: str
    stage: Stage
    since: UtcDateTime
    reasons: tuple[Reason, ...]
    flags: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    probability_no_purchase: float | None = None
    next_order_expected: UtcDateTime | None = None


class Rule(IntEnum):
    """The rules in priority order (the first that matches decides); ``name`` of a reason is
    :attr:`code`, the stage it gives is :attr:`stage`."""

    SERVICE_SHIPPED = 0
    SERVICE_REFUNDED = 1
    SERVICE_CANCELLED = 2
    PURCHASE_FIRST_ORDER_OPEN = 3
    LAPSED = 4
    AT_RISK = 5
    ADVOCACY_REVIEW = 6
    ADVOCACY_MANY_ORDERS = 7
    LOYALTY = 8
    PURCHASE_ONE_TIME = 9
    CONSIDERATION = 10
    AWARENESS = 11

    @property
    def code(self) -> str:
        """The rule's name in reasons, e.g. ``service.shipped``."""
        return _RULE_CODES[self]

    @property
    def stage(self) -> Stage:
        """The stage this rule puts a person in."""
        return _RULE_STAGES[self]


_RULE_CODES: Final = ("service.shipped", "service.refunded", "service.cancelled",
                      "purchase.first_order_open", "lapsed", "at_risk", "advocacy.review",
                      "advocacy.many_orders", "loyalty", "purchase.one_time",
                      "consideration.checkout", "awareness")
_RULE_STAGES: Final = (Stage.SERVICE, Stage.SERVICE, Stage.SERVICE, Stage.PURCHASE, Stage.LAPSED,
                       Stage.AT_RISK, Stage.ADVOCACY, Stage.ADVOCACY, Stage.LOYALTY,
                       Stage.PURCHASE, Stage.CONSIDERATION, Stage.AWARENESS)
_STAGES: Final = tuple(Stage)
#: Stage code (index into ``tuple(Stage)``) of each rule.
_RULE_STAGE_CODE: Final = np.array([_STAGES.index(s) for s in _RULE_STAGES], dtype=np.int8)
_BUYER_RULES: Final = frozenset({Rule.LAPSED, Rule.AT_RISK, Rule.ADVOCACY_REVIEW,
                                 Rule.ADVOCACY_MANY_ORDERS, Rule.LOYALTY,
                                 Rule.PURCHASE_ONE_TIME})


def _plus_days(times: I64, days: F64) -> I64:
    """``times + timedelta(days=days)`` for non-negative ``days``, rounded to the microsecond
    exactly as ``datetime.timedelta`` rounds (half to even)."""
    whole = np.trunc(days)
    frac_us = np.rint((days - whole) * float(DAY_US))
    return times + whole.astype(np.int64) * DAY_US + frac_us.astype(np.int64)


def _loyal_since(table: FactsTable, at_risk_gate: F64) -> I64:
    """For repeat buyers: the second purchase of the current run, the run being the purchases
    after the last gap longer than the person's at-risk gate (the latest purchase when the run
    has only one). Other rows: the latest purchase (NO_TIME without one)."""
    out: I64 = np.array(table.last_purchase, dtype=np.int64)
    rows = np.flatnonzero(table.purchases >= 2)
    if rows.size == 0:
        return out
    times, owner, offsets = table.purchase_times, table.purchase_owner, table.purchase_offsets
    position = np.arange(times.shape[0], dtype=np.int64)
    start = offsets[:-1][owner]
    gap = np.zeros(times.shape[0], dtype=np.float64)
    gap[1:] = (times[1:] - times[:-1]).astype(np.float64) / float(DAY_US)
    broken = (position != start) & (gap > at_risk_gate[owner])
    # the latest break (else the first purchase) per person: segments are in row order, so a
    # running maximum read at each segment's end is the maximum within that segment
    run_start = np.maximum.accumulate(np.where(broken, position, start))[offsets[1:][rows] - 1]
    second = run_start + 1
    two = second < offsets[1:][rows]
    out[rows[two]] = times[second[two]]
    return out


@dataclass(frozen=True, eq=False)
class StageTable:
    """The decision for every row of a :class:`FactsTable`: the rule that matched (``rule``,
    :class:`Rule` codes), since when (``since``, microseconds, never after ``now``), the flags
    (``flags``, :class:`~journeybridge.stages.table.Flag` bits) and the numbers reasons quote:
    the probability of no purchase in the horizon (NaN for none), days since the last purchase,
    the person's at-risk and lapsed gates, their usual gap (NaN without two gaps) and whether
    it stretched the shop's at-risk gate (``own_rhythm``)."""

    facts: FactsTable
    gates: GapGates
    settings: StageSettings
    model_note: str
    rule: NDArray[np.int8]
    since: I64
    flags: NDArray[np.uint8]
    probability: F64
    days_since_last: F64
    at_risk_gate: F64
    lapsed_gate: F64
    usual_gap: F64
    own_rhythm: Bools
    drivers: Drivers | None = None
    next_expected: I64 | None = None

    def __len__(self) -> int:
        return len(self.facts)

    @property
    def stage_codes(self) -> NDArray[np.int8]:
        """Each row's stage as an index into ``tuple(Stage)``."""
        return _RULE_STAGE_CODE[self.rule]

    def stages(self) -> list[Stage]:
        """Each row's stage."""
        return [_STAGES[c] for c in self.stage_codes.tolist()]

    def expected_next(self) -> I64:
        """When each repeat buyer's next order is expected (microseconds; NO_TIME for others
        and for the lapsed): their last purchase plus their usual gap (the median of their
        gaps; their one gap when they have only one)."""
        if self.next_expected is not None:
            return self.next_expected
        return np.full(len(self), NO_TIME, dtype=np.int64)

    def counts(self) -> dict[Stage, int]:
        """How many people are in each stage (every stage listed, in route order)."""
        counted = np.bincount(self.stage_codes, minlength=len(_STAGES))
        return {stage: int(c) for stage, c in zip(_STAGES, counted.tolist())}

    def classification(self, i: int) -> Classification:
        """Row ``i`` as a :class:`Classification`: stage, since, flags, probability and the
        reasons in words with their facts, identical to what :func:`decide` gives for that
        person."""
        return self.classifications([i])[0]

    def classifications(self, rows: ArrayLike | None = None) -> list[Classification]:
        """The :class:`Classification` of every row (or of ``rows``, in that order)."""
        index = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.intp)
        facts = self.facts
        keys = facts.keys
        key_list = [keys[i] for i in index.tolist()]
        columns = (
            index, key_list, self.rule[index], self.since[index], self.flags[index],
            self.probability[index], facts.purchases[index], facts.first_purchase[index],
            facts.last_purchase[index], self.days_since_last[index], self.at_risk_gate[index],
            self.lapsed_gate[index], self.usual_gap[index], self.own_rhythm[index],
            facts.shipped_at[index], facts.shipped_order[index], facts.trouble_at[index],
            facts.trouble_order[index], facts.review_at[index], facts.review_rating[index],
            facts.review_verified[index], facts.review_product[index],
            facts.signal_count[index], facts.signal_first[index], facts.signal_detail[index],
            facts.known_since[index], facts.orders_seen[index],
            self.expected_next()[index],
        )
        words = _Words(self)
        lists = [c if isinstance(c, list) else c.tolist() for c in columns]
        return [words.classification(_Row(*values)) for values in zip(*lists)]


class _Row(NamedTuple):
    at: int
    key: str
    rule: int
    since: int
    flags: int
    probability: float
    purchases: int
    first: int
    last: int
    days_since_last: float
    at_risk_gate: float
    lapsed_gate: float
    usual_gap: float
    own_rhythm: bool
    shipped_at: int
    shipped_order: int
    trouble_at: int
    trouble_order: int
    review_at: int
    review_rating: int
    review_verified: bool
    review_product: int
    signal_count: int
    signal_first: int
    signal_detail: int
    known_since: int
    orders_seen: int
    next_expected: int


def _ago(days: float) -> str:
    """``days`` since a moment, as a person says it: "less than a day ago", "1 day ago",
    "12 days ago"."""
    whole = round(days)
    if whole <= 0:
        return "less than a day ago"
    return "1 day ago" if whole == 1 else f"{whole} days ago"


def _reason(*, rule: str, text: str, facts: dict[str, FactValue] | None = None) -> Reason:
    # the values are built here with the right types, so pydantic's validation is skipped
    return Reason.model_construct(rule=rule, text=text, facts={} if facts is None else facts)


def _classification(*, person_key: str, stage: Stage, since: datetime,
                    reasons: tuple[Reason, ...], flags: tuple[str, ...],
                    probability_no_purchase: float | None,
                    next_order_expected: datetime | None = None) -> Classification:
    return Classification.model_construct(
        person_key=person_key, stage=stage, since=since, reasons=reasons, flags=flags,
        segments=(), probability_no_purchase=probability_no_purchase,
        next_order_expected=next_order_expected)


class _Words:
    """Turns decided rows into sentences and facts (shared parts computed once)."""

    def __init__(self, table: StageTable) -> None:
        self.table = table
        self.settings = table.settings
        self.describe = table.gates.describe()
        self.repeat_gaps = table.gates.repeat_gaps
        self.model = _reason(rule="model", text=table.model_note) if table.model_note else None
        self.context: dict[str, Reason] = {}

    def _rhythm(self, note: str) -> Reason:
        reason = self.context.get(note)
        if reason is None:
            reason = _reason(rule="rhythm", text=self.describe + (f"; {note}" if note else ""),
                            facts={"repeat_gaps_measured": self.repeat_gaps})
            self.context[note] = reason
        return reason

    def classification(self, row: _Row) -> Classification:
        rule = Rule(row.rule)
        probability = None if row.probability != row.probability else row.probability
        reasons: list[Reason]
        if rule is Rule.SERVICE_SHIPPED:
            ref = self.table.facts.order_refs[row.shipped_order]
            when = day_text(row.shipped_at)
            reasons = [_reason(rule=rule.code, text=f"order {ref.label} was shipped on {when} "
                              "and is not delivered yet",
                              facts={"order": ref.id, "shipped_on": when})]
        elif rule in (Rule.SERVICE_REFUNDED, Rule.SERVICE_CANCELLED):
            what = "refunded" if rule is Rule.SERVICE_REFUNDED else "cancelled"
            ref = self.table.facts.order_refs[row.trouble_order]
            when = day_text(row.trouble_at)
            reasons = [_reason(rule=rule.code, text=f"order {ref.label} was {what} after payment "
                              f"on {when}: a pain point to follow up",
                              facts={"order": ref.id, what + "_on": when,
                                     "refunded_amount": ref.refunded_amount})]
        elif rule is Rule.PURCHASE_FIRST_ORDER_OPEN:
            when = day_text(row.first)
            reasons = [_reason(rule=rule.code,
                              text=f"first purchase paid on {when}, still being prepared",
                              facts={"purchases": 1, "paid_on": when})]
        elif rule in _BUYER_RULES:
            reasons = self._buyer(rule, row, probability)
        elif rule is Rule.CONSIDERATION:
            probability = None
            reasons = [self._consideration(row)]
        else:
            probability = None
            reasons = [self._awareness(row)]
        return _classification(person_key=row.key, stage=rule.stage, since=datetime_of(row.since),
                              reasons=tuple(reasons), flags=flag_names(row.flags),
                              probability_no_purchase=probability,
                              next_order_expected=None if row.next_expected == NO_TIME
                              else datetime_of(row.next_expected))

    def _buyer(self, rule: Rule, row: _Row, probability: float | None) -> list[Reason]:
        settings = self.settings
        purchases, since_last = row.purchases, row.days_since_last
        note = ""
        if row.usual_gap == row.usual_gap:  # not NaN: the person has their own rhythm
            note = f"their usual gap is {row.usual_gap:.0f} days"
        values: dict[str, FactValue] = {
            "purchases": purchases,
            "last_purchase": day_text(row.last),
            "days_since_last_purchase": round(since_last, 1),
            "at_risk_after_days": round(row.at_risk_gate, 1),
            "lapsed_after_days": round(row.lapsed_gate, 1),
        }
        if probability is not None:
            values["probability_no_order_in_horizon"] = round(probability, 3)
            values["horizon_days"] = settings.horizon_days
        extra = [self._rhythm(note)]
        if self.model is not None:
            extra.append(self.model)
        order_word = "order" if purchases == 1 else "orders"
        story = (f"{purchases} paid {order_word}; last {_ago(since_last)}"
                 + (f"; {note}" if note else ""))
        chance = ("" if probability is None else
                  f" and a {probability:.0%} chance of no order in the next "
                  f"{settings.horizon_days:.0f} days")
        weighing = ""
        if rule in (Rule.LAPSED, Rule.AT_RISK) and self.table.drivers is not None:
            words = self.table.drivers.text(row.at)
            if words:
                weighing = f"; what weighs most: {words}"
                values["weighs_most"] = words
        if rule is Rule.LAPSED:
            text = f"{story}: past the {row.lapsed_gate:.0f}-day lapsed gate{chance}{weighing}"
        elif rule is Rule.AT_RISK:
            text = (f"{story}: past the {row.at_risk_gate:.0f}-day at-risk gate{chance}"
                    f"{weighing}")
        elif rule is Rule.ADVOCACY_REVIEW:
            when = day_text(row.review_at)
            product = self.table.facts.texts[row.review_product]
            text = f"{story}; rated {product} {row.review_rating}/5 on {when}"
            values = {**values, "review_rating": row.review_rating, "review_on": when,
                      "review_verified": row.review_verified}
        elif rule is Rule.ADVOCACY_MANY_ORDERS:
            text = f"{story}: at least {settings.advocacy_min_orders} purchases makes a fan"
        elif rule is Rule.LOYALTY:
            text = f"{story}: a repeat buyer within their rhythm"
        else:
            text = f"{story}: bought once, within the shop's rhythm"
        return [_reason(rule=rule.code, text=text, facts=values), *extra]

    def _consideration(self, row: _Row) -> Reason:
        detail = self.table.facts.texts[row.signal_detail]
        when = day_text(row.signal_first)
        reminder = ("the payment failed, so the reminder should offer help paying"
                    if row.flags & Flag.PAYMENT_FAILED else
                    "left behind: a reminder may bring them back"
                    if row.flags & (Flag.ABANDONED_CHECKOUT | Flag.ABANDONED_CART) else
                    "still fresh")
        # other orders than the open ones: paid and refunded, cancelled or failed ones
        none = ("no purchase kept yet (refunded, cancelled and failed orders do not count)"
                if row.orders_seen > row.signal_count else "no purchase yet")
        return _reason(rule=Rule.CONSIDERATION.code,
                      text=f"{none}, but {detail} since {when}; {reminder}",
                      facts={"signals": row.signal_count, "first_signal": when})

    def _awareness(self, row: _Row) -> Reason:
        reason = "known to the shop"
        values: dict[str, FactValue] = {}
        if row.known_since != NO_TIME:
            values["known_since"] = day_text(row.known_since)
            reason = f"known to the shop since {values['known_since']}"
        if row.flags & Flag.NEWSLETTER:
            reason += ", subscribed to the newsletter"
            values["newsletter"] = True
        if row.orders_seen:
            reason += f"; {row.orders_seen} unpaid or cancelled order(s), none recent"
            values["unpaid_orders"] = row.orders_seen
        else:
            reason += "; no cart, checkout or order yet"
        return _reason(rule=Rule.AWARENESS.code, text=reason, facts=values)


def decide_table(
    table: FactsTable,
    gates: GapGates,
    settings: StageSettings,
    probabilities: ArrayLike | None = None,
    model_note: str = "",
    drivers: Drivers | None = None,
) -> StageTable:
    """Decide every row of ``table`` by the rule table (first matching rule wins, in the order
    of :class:`Rule`), vectorised, against the shop's ``gates`` and, where the shop's BG/NBD
    model is fitted, each person's probability of no purchase in the horizon
    (``probabilities``, NaN or None for none: the gap gate alone decides; ``drivers`` name the
    features that weigh most in a learned probability). ``settings`` must be
    the settings the table was built for. Rows do not influence each other."""
    if settings != table.settings:
        raise ValueError("the table was built for other settings; rebuild it for these")
    n = len(table)
    now = table.now_us
    if probabilities is None:
        prob = np.full(n, np.nan, dtype=np.float64)
    else:
        prob = np.asarray(probabilities, dtype=np.float64)
        if prob.shape != (n,):
            raise ValueError(f"probabilities must have shape ({n},), got {prob.shape}")
    rule = np.full(n, -1, dtype=np.int8)
    since = np.full(n, NO_TIME, dtype=np.int64)
    open_rows = np.ones(n, dtype=np.bool_)

    def take(match: Bools, which: Rule, when: I64 | int) -> None:
        hit = match & open_rows
        rule[hit] = which
        since[hit] = when[hit] if isinstance(when, np.ndarray) else when
        open_rows[hit] = False

    # 1. service
    take(table.shipped_at != NO_TIME, Rule.SERVICE_SHIPPED, table.shipped_at)
    trouble = table.trouble_at != NO_TIME
    take(trouble & table.trouble_refunded, Rule.SERVICE_REFUNDED, table.trouble_at)
    take(trouble & ~table.trouble_refunded, Rule.SERVICE_CANCELLED, table.trouble_at)

    # 2. a first purchase still being prepared
    purchases = table.purchases
    assert table.preparing_since is not None
    prepared_for = (now - table.preparing_since).astype(np.float64) / float(DAY_US)
    preparing = ((table.flags & Flag.ORDER_IN_PREPARATION) != 0) & \
        (prepared_for <= gates.fulfilment_days)
    take((purchases == 1) & preparing, Rule.PURCHASE_FIRST_ORDER_OPEN, table.first_purchase)

    # the buyer's clock: days since the last purchase against gates stretched to their rhythm
    buyer = purchases >= 1
    last = table.last_purchase
    days_since_last = np.where(buyer, (now - np.where(buyer, last, now)).astype(np.float64)
                               / float(DAY_US), np.nan)
    usual = table.median_gap_days
    own = usual * settings.own_rhythm_factor
    own_rhythm = own > gates.at_risk_days  # False where NaN (no rhythm of their own)
    at_risk_gate = np.where(own_rhythm, own, gates.at_risk_days)
    own_lapsed = usual * settings.own_rhythm_lapsed_factor
    lapsed_gate = np.maximum(np.where(own_lapsed > gates.lapsed_days, own_lapsed,
                                      gates.lapsed_days), at_risk_gate)
    no_probability = np.isnan(prob)

    # 3./4. lapsed, at risk: two signals together
    lapsed = buyer & (days_since_last > lapsed_gate) & \
        (no_probability | (prob >= settings.lapsed_probability)) & open_rows
    take(lapsed, Rule.LAPSED, _plus_days(np.where(lapsed, last, 0),
                                         np.where(lapsed, lapsed_gate, 0.0)))
    at_risk = buyer & (days_since_last > at_risk_gate) & \
        (no_probability | (prob >= settings.at_risk_probability)) & open_rows
    take(at_risk, Rule.AT_RISK, _plus_days(np.where(at_risk, last, 0),
                                           np.where(at_risk, at_risk_gate, 0.0)))

    # 5. advocacy, 6. loyalty: repeat buyers, since the second purchase of the current run
    repeat = purchases >= 2
    loyal_since = _loyal_since(table, at_risk_gate)
    take(repeat & (table.review_at != NO_TIME), Rule.ADVOCACY_REVIEW,
         np.maximum(table.review_at, loyal_since))
    take(purchases >= settings.advocacy_min_orders, Rule.ADVOCACY_MANY_ORDERS,
         np.maximum(table.nth_purchase(settings.advocacy_min_orders), loyal_since))
    take(repeat, Rule.LOYALTY, loyal_since)
    # 7. a one-time buyer within rhythm
    take(buyer, Rule.PURCHASE_ONE_TIME, last)

    # 8. consideration, 9. awareness
    take(table.signal_count > 0, Rule.CONSIDERATION, table.signal_first)
    take(open_rows.copy(), Rule.AWARENESS,
         np.where(table.known_since != NO_TIME, table.known_since, now))

    trouble_rule = (rule == Rule.SERVICE_REFUNDED) | (rule == Rule.SERVICE_CANCELLED)
    flags = (table.flags & ~np.uint8(Flag.ORDER_IN_PREPARATION)) | \
        np.where(preparing, Flag.ORDER_IN_PREPARATION, 0).astype(np.uint8) | \
        np.where(trouble_rule, Flag.REFUND_OR_CANCELLATION, 0).astype(np.uint8)
    no_model_rule = (rule == Rule.CONSIDERATION) | (rule == Rule.AWARENESS)
    one_gap = np.where(purchases >= 2, (table.nth_purchase(2) - table.first_purchase)
                       .astype(np.float64) / float(DAY_US), np.nan)
    rhythm_gap = np.where(np.isnan(usual), one_gap, usual)
    expects = repeat & (rule != Rule.LAPSED) & ~np.isnan(rhythm_gap)
    next_expected = np.full(n, NO_TIME, dtype=np.int64)
    next_expected[expects] = _plus_days(last[expects], rhythm_gap[expects])
    return StageTable(
        facts=table, gates=gates, settings=settings, model_note=model_note, rule=rule,
        since=np.minimum(since, now), flags=flags,
        probability=np.where(no_model_rule, np.nan, prob), days_since_last=days_since_last,
        at_risk_gate=at_risk_gate, lapsed_gate=lapsed_gate, usual_gap=usual,
        own_rhythm=own_rhythm, drivers=drivers, next_expected=next_expected)


def decide(
    facts: PersonFacts,
    key: str,
    gates: GapGates,
    settings: StageSettings,
    probability: float | None = None,
    model_note: str = "",
) -> Classification:
    """Classify one person from their facts, the shop's gap gates and (where the shop's
    BG/NBD model is fitted) their probability of no purchase within the horizon: the
    :func:`decide_table` path for a table of one."""
    table = FactsTable.from_facts([facts], settings, keys=[key])
    chance = np.array([np.nan if probability is None else probability], dtype=np.float64)
    return decide_table(table, gates, settings, chance, model_note).classification(0)

