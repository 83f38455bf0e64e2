"""Next actions: what the shop could do next for each person, when, until when, and why.

Pure: every function takes the journey, its classification and ``now``; nothing here reads a
shop, a clock or a file. An action is *open* from its due time until its expiry; each person
gets at most one open action, the first open kind in :data:`PRIORITY`:

1. ``payment_help``: an order whose payment failed, or that waits for payment (pending, on
   hold) for ``payment_delay_hours``, nothing paid since; open ``payment_days``.
2. ``cart_reminder``: a cart without an order, or a started checkout, left for
   ``abandon_hours``, nothing paid since, an e-mail known; open ``cart_days``.
3. ``track_and_trace``: an order shipped (with its tracking number and carrier where the shop
   has them); open ``track_days`` from shipping, or until a refund or cancellation.
4. ``review_request``: an order delivered ``review_delay_days`` ago, not refunded, with
   products the person has not reviewed yet; open ``review_days``.
5. ``win_back``: the person is at risk; open ``stage_days`` from the day they became so.
6. ``reactivation``: the person is lapsed; open ``stage_days``.
7. ``thank_you``: the person is an advocate (thank-you / referral); open ``stage_days``.
8. ``welcome``: registered or subscribed, no order yet; open ``welcome_days``.

Money first (a payment or a cart the person wanted), then service, then the stage-wide ones.
Each action has a stable id: a hash of the person key, the kind and the triggering record with
its moment, so reruns give the same id and a new episode (another cart, a later failure) a new
one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from journeybridge.model import Journey, Order, OrderStatus
from journeybridge.stages import Classification, Stage

__all__ = [
    "PRIORITY",
    "STAGE_KINDS",
    "VALUE_DUE",
    "VALUE_ID",
    "VALUE_KIND",
    "ActionKind",
    "ActionSettings",
    "NextAction",
    "action_values",
    "candidates",
    "next_action",
    "next_actions",
    "shop_actions",
    "stage_day",
]


class ActionKind(str, Enum):
    """The kinds of next action (see the module docstring)."""

    PAYMENT_HELP = "payment_help"
    CART_REMINDER = "cart_reminder"
    TRACK_AND_TRACE = "track_and_trace"
    REVIEW_REQUEST = "review_request"
    WIN_BACK = "win_back"
    REACTIVATION = "reactivation"
    THANK_YOU = "thank_you"
    WELCOME = "welcome"

    @property
    def label(self) -> str:
        """A short name a shop owner reads (also the default PrestaShop group's suffix)."""
        return _LABELS[self]


_LABELS = {
    ActionKind.PAYMENT_HELP: "Payment help",
    ActionKind.CART_REMINDER: "Cart reminder",
    ActionKind.TRACK_AND_TRACE: "Track and trace",
    ActionKind.REVIEW_REQUEST: "Review request",
    ActionKind.WIN_BACK: "Win-back",
    ActionKind.REACTIVATION: "Reactivation",
    ActionKind.THANK_YOU: "Thank you",
    ActionKind.WELCOME: "Welcome",
}

PRIORITY: tuple[ActionKind, ...] = tuple(ActionKind)
"""The kinds in priority order: a person's open action is the first open kind here."""

VALUE_KIND = "next_action"
VALUE_DUE = "next_action_due"
VALUE_ID = "next_action_id"
"""The names of the values written back (WooCommerce: ``<meta_prefix>`` + name)."""


class ActionSettings(BaseModel):
    """The ``[actions]`` table: which kinds are on, and their delays and windows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: tuple[ActionKind, ...] = Field(PRIORITY, description=(
        "the kinds to propose (default: all)"))
    write_back: bool = Field(True, description="write the open action to the shop on sync")
    abandon_hours: float = Field(4.0, gt=0, le=24 * 30, description=(
        "a cart or started checkout untouched this long is abandoned"))
    cart_days: float = Field(7.0, gt=0, le=365)
    payment_delay_hours: float = Field(1.0, ge=0, le=24 * 30, description=(
        "an order waiting for payment this long needs help (a failed payment: at once)"))
    payment_days: float = Field(7.0, gt=0, le=365)
    track_days: float = Field(5.0, gt=0, le=365)
    review_delay_days: float = Field(7.0, ge=0, le=365)
    review_days: float = Field(30.0, gt=0, le=365)
    stage_days: float = Field(30.0, gt=0, le=3650, description=(
        "win-back, reactivation and thank-you stay open this long after the stage began"))
    welcome_days: float = Field(14.0, gt=0, le=365)

    @field_validator("enabled", mode="before")
    @classmethod
    def _kinds(cls, value: object) -> object:
        if isinstance(value, (list, tuple)):
            known = {k.value for k in ActionKind}
            unknown = [v for v in value if v not in known]
            if unknown:
                raise ValueError(f"unknown action kind {unknown[0]!r}; known: "
                                 f"{', '.join(k.value for k in ActionKind)}")
            if len(set(value)) != len(value):
                raise ValueError("an action kind is listed twice")
        return value


@dataclass(frozen=True)
class NextAction:
    """One proposed action for one person: ``record`` names the triggering record (``order
    12``, ``cart 7``, ``stage at_risk``), ``tracking_number`` and ``carrier`` are set for
    track and trace where the shop has them."""

    person_key: str
    kind: ActionKind
    due: datetime
    expires: datetime
    id: str
    reason: str
    record: str
    tracking_number: str | None = None
    carrier: str | None = None

    def is_open(self, now: datetime) -> bool:
        """Due at or before ``now`` and not yet expired."""
        return self.due <= now < self.expires

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready, for the ``actions`` command (times in UTC)."""
        return {"person": self.person_key, "kind": self.kind.value,
                "due": self.due.astimezone(timezone.utc).isoformat(),
                "expires": self.expires.astimezone(timezone.utc).isoformat(),
                "id": self.id, "reason": self.reason, "record": self.record,
                "tracking_number": self.tracking_number, "carrier": self.carrier}


def action_values(action: NextAction | None) -> dict[str, str]:
    """The values written back for a person's open action (all empty without one, which
    clears what an earlier run wrote): kind, due time (ISO 8601, UTC) and id."""
    if action is None:
        return {VALUE_KIND: "", VALUE_DUE: "", VALUE_ID: ""}
    return {VALUE_KIND: action.kind.value,
            VALUE_DUE: action.due.astimezone(timezone.utc).isoformat(timespec="seconds"),
            VALUE_ID: action.id}


def _action_id(person_key: str, kind: ActionKind, record: str, moment: datetime) -> str:
    text = "|".join((person_key, kind.value, record,
                     moment.astimezone(timezone.utc).isoformat(timespec="seconds")))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _day(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _label(order: Order) -> str:
    return f"order {order.number or order.id}"


def _status_at(order: Order, statuses: Iterable[OrderStatus]) -> datetime | None:
    """When ``order`` last reached one of ``statuses``: its history, else its own dates when
    its current status is one of them. Never ``modified_at``: the write-back itself changes
    it (a guest's values live on their latest order), which would move the action and its
    id on every run."""
    wanted = set(statuses)
    times = [c.at for c in order.history if c.status in wanted]
    if times:
        return max(times)
    if order.status in wanted:
        if order.status is OrderStatus.DELIVERED and order.completed_at is not None:
            return order.completed_at
        if order.status is OrderStatus.SHIPPED and order.shipped_at is not None:
            return order.shipped_at
        return order.paid_at if order.status.is_paid and order.paid_at else order.created_at
    return None


def _paid_moments(journey: Journey) -> list[datetime]:
    moments = []
    for order in journey.orders:
        if order.status.is_paid or order.paid_at is not None:
            moments.append(order.paid_at or order.created_at)
    return moments


def _paid_since(paid: Sequence[datetime], moment: datetime) -> bool:
    return any(p >= moment for p in paid)


def _refunded(order: Order) -> bool:
    return order.status is OrderStatus.REFUNDED or order.refunded_amount > 0


def _open(due: datetime, days: float, now: datetime) -> bool:
    return due <= now < due + timedelta(days=days)


def _make(journey: Journey, kind: ActionKind, record: str, moment: datetime, due: datetime,
          days: float, reason: str, **extra: str | None) -> NextAction:
    return NextAction(person_key=journey.key, kind=kind, due=due,
                      expires=due + timedelta(days=days),
                      id=_action_id(journey.key, kind, record, moment), reason=reason,
                      record=record, **extra)


def _payment_help(journey: Journey, settings: ActionSettings, paid: Sequence[datetime],
                  now: datetime) -> list[NextAction]:
    found = []
    for order in journey.orders:
        if order.status is OrderStatus.FAILED:
            moment = _status_at(order, [OrderStatus.FAILED]) or order.created_at
            due, what = moment, "its payment failed"
        elif order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.ON_HOLD):
            moment = _status_at(order, [order.status]) or order.created_at
            due = moment + timedelta(hours=settings.payment_delay_hours)
            what = "it still waits for payment"
        else:
            continue
        if not _open(due, settings.payment_days, now) or _paid_since(paid, moment):
            continue
        found.append(_make(journey, ActionKind.PAYMENT_HELP, f"order {order.id}", moment, due,
                           settings.payment_days,
                           f"{_label(order)} of {_day(moment)}: {what} ({order.raw_status}) "
                           "and nothing was paid since: offer help with the payment"))
    return found


def _cart_reminder(journey: Journey, settings: ActionSettings, paid: Sequence[datetime],
                   now: datetime) -> list[NextAction]:
    if journey.person.email is None:
        return []
    wait = timedelta(hours=settings.abandon_hours)
    found = []
    for cart in journey.carts:
        if cart.order_id is not None or not cart.lines:
            continue
        moment = cart.updated_at or cart.created_at
        if not _open(moment + wait, settings.cart_days, now) or _paid_since(paid, moment):
            continue
        items = sum(line.quantity for line in cart.lines)
        found.append(_make(journey, ActionKind.CART_REMINDER, f"cart {cart.id}", moment,
                           moment + wait, settings.cart_days,
                           f"cart {cart.id} with {items} item(s) was left on {_day(moment)} "
                           "without an order, nothing paid since: send a cart reminder"))
    for order in journey.orders:
        if order.status is not OrderStatus.CHECKOUT_STARTED:
            continue
        moment = _status_at(order, [OrderStatus.CHECKOUT_STARTED]) or order.created_at
        if not _open(moment + wait, settings.cart_days, now) or _paid_since(paid, moment):
            continue
        found.append(_make(journey, ActionKind.CART_REMINDER, f"order {order.id}", moment,
                           moment + wait, settings.cart_days,
                           f"checkout {_label(order)} was started on {_day(moment)} and "
                           "not finished, nothing paid since: send a cart reminder"))
    return found


def _track_and_trace(journey: Journey, settings: ActionSettings, now: datetime
                     ) -> list[NextAction]:
    found = []
    for order in journey.orders:
        if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.FAILED) \
                or _refunded(order):
            continue
        if order.status is OrderStatus.SHIPPED:
            moment = _status_at(order, [OrderStatus.SHIPPED])
        elif order.tracking_number and order.status is OrderStatus.DELIVERED:
            moment = order.shipped_at or _status_at(order, [OrderStatus.SHIPPED]) or \
                _status_at(order, [OrderStatus.DELIVERED])
        else:
            continue
        if moment is None or not _open(moment, settings.track_days, now):
            continue
        how = ""
        if order.carrier:
            how += f" with {order.carrier}"
        if order.tracking_number:
            how += f", tracking number {order.tracking_number}"
        found.append(_make(journey, ActionKind.TRACK_AND_TRACE, f"order {order.id}", moment,
                           moment, settings.track_days,
                           f"{_label(order)} was shipped on {_day(moment)}{how}: send the "
                           "track and trace details", tracking_number=order.tracking_number,
                           carrier=order.carrier))
    return found


def _review_request(journey: Journey, settings: ActionSettings, now: datetime
                    ) -> list[NextAction]:
    reviewed = {r.product_id for r in journey.reviews}
    found = []
    for order in journey.orders:
        if order.status is not OrderStatus.DELIVERED or _refunded(order):
            continue
        moment = _status_at(order, [OrderStatus.DELIVERED])
        if moment is None or not _open(moment + timedelta(days=settings.review_delay_days),
                                       settings.review_days, now):
            continue
        products = sorted({line.product_id for line in order.lines} - reviewed)
        if not products:
            continue
        found.append(_make(journey, ActionKind.REVIEW_REQUEST, f"order {order.id}", moment,
                           moment + timedelta(days=settings.review_delay_days),
                           settings.review_days,
                           f"{_label(order)} was delivered on {_day(moment)}, not refunded, "
                           f"with {len(products)} product(s) not reviewed yet: ask "
                           "for a review"))
    return found


_STAGE_ACTIONS = {
    Stage.AT_RISK: (ActionKind.WIN_BACK, "is at risk of not coming back",
                    "send a win-back offer"),
    Stage.LAPSED: (ActionKind.REACTIVATION, "has lapsed", "try to reactivate them"),
    Stage.ADVOCACY: (ActionKind.THANK_YOU, "is an advocate",
                     "thank them and ask for a referral"),
}


STAGE_KINDS: frozenset[str] = frozenset(stage.value for stage in _STAGE_ACTIONS)
"""The stages (by code) that have an action of their own, anchored on the stage's day."""


def _stage_action(journey: Journey, classification: Classification,
                  settings: ActionSettings, now: datetime) -> list[NextAction]:
    if classification.stage not in _STAGE_ACTIONS:
        return []
    kind, what, advice = _STAGE_ACTIONS[classification.stage]
    since = classification.since
    if not _open(since, settings.stage_days, now):
        return []
    why = classification.reasons[0].text if classification.reasons else ""
    reason = f"since {_day(since)} this person {what}" + (f" ({why})" if why else "") + \
        f": {advice}"
    return [_make(journey, kind, f"stage {classification.stage.value}", since, since,
                  settings.stage_days, reason)]


def _welcome(journey: Journey, settings: ActionSettings, now: datetime) -> list[NextAction]:
    if journey.orders:
        return []
    person = journey.person
    found = []
    if person.registered_at is not None and not person.is_guest and \
            _open(person.registered_at, settings.welcome_days, now):
        found.append(_make(journey, ActionKind.WELCOME, "registered", person.registered_at,
                           person.registered_at, settings.welcome_days,
                           f"registered on {_day(person.registered_at)} and has not ordered "
                           "yet: send a welcome"))
    if person.newsletter is not None and person.newsletter.subscribed and \
            person.newsletter.at is not None and \
            _open(person.newsletter.at, settings.welcome_days, now):
        at = person.newsletter.at
        found.append(_make(journey, ActionKind.WELCOME, "subscribed", at, at,
                           settings.welcome_days,
                           f"subscribed to the newsletter on {_day(at)} and has not ordered "
                           "yet: send a welcome"))
    return found


def candidates(journey: Journey, classification: Classification, now: datetime,
               settings: ActionSettings | None = None) -> list[NextAction]:
    """Every open action of the enabled kinds for this person as of ``now`` (aware), in
    priority order, the most recent trigger first within a kind."""
    settings = settings or ActionSettings()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    enabled = set(settings.enabled)
    paid = _paid_moments(journey)
    found: list[NextAction] = []
    builders = (
        (_payment_help(journey, settings, paid, now) if ActionKind.PAYMENT_HELP in enabled
         else []),
        (_cart_reminder(journey, settings, paid, now) if ActionKind.CART_REMINDER in enabled
         else []),
        (_track_and_trace(journey, settings, now) if ActionKind.TRACK_AND_TRACE in enabled
         else []),
        (_review_request(journey, settings, now) if ActionKind.REVIEW_REQUEST in enabled
         else []),
        _stage_action(journey, classification, settings, now),
        (_welcome(journey, settings, now) if ActionKind.WELCOME in enabled else []),
    )
    for built in builders:
        found.extend(a for a in built if a.kind in enabled and a.is_open(now))
    rank = {kind: i for i, kind in enumerate(PRIORITY)}
    found.sort(key=lambda a: (rank[a.kind], -a.due.timestamp(), a.id))
    return found


def next_action(journey: Journey, classification: Classification, now: datetime,
                settings: ActionSettings | None = None) -> NextAction | None:
    """The person's one open action as of ``now`` (the first by :data:`PRIORITY`), or
    None."""
    found = candidates(journey, classification, now, settings)
    return found[0] if found else None


def next_actions(journeys: Sequence[Journey], classifications: Sequence[Classification],
                 now: datetime, settings: ActionSettings | None = None) -> list[NextAction]:
    """The open action of every person who has one, in the order of ``journeys``
    (``classifications`` in the same order)."""
    if len(journeys) != len(classifications):
        raise ValueError("journeys and classifications differ in length")
    out = []
    for journey, classification in zip(journeys, classifications):
        action = next_action(journey, classification, now, settings)
        if action is not None:
            out.append(action)
    return out


def stage_day(classification: Classification, day: date, zone: tzinfo) -> Classification:
    """``classification`` with its since at the start of ``day`` in the shop's ``zone`` (the
    day the store recorded the person entering their stage): what the stage kinds are
    anchored on, so that their due time and id stay the same from run to run while the
    computed since-moment shifts with the shop's rhythm."""
    moment = datetime.combine(day, datetime.min.time(), zone)
    return classification.model_copy(update={"since": moment})


def shop_actions(journeys: Sequence[Journey], classifications: Sequence[Classification],
                 now: datetime, zone: tzinfo, settings: ActionSettings | None = None
                 ) -> list[tuple[Journey, Classification, NextAction]]:
    """Every person's open action as the sync writes it back: each classification anchored on
    the day its since falls on in ``zone`` (:func:`stage_day`). Returns (journey,
    classification, action) for the people who have one, in the order of ``journeys``."""
    if len(journeys) != len(classifications):
        raise ValueError("journeys and classifications differ in length")
    out = []
    for journey, classification in zip(journeys, classifications):
        anchored = classification
        if classification.stage in _STAGE_ACTIONS:
            anchored = stage_day(classification, classification.since.astimezone(zone).date(),
                                 zone)
        action = next_action(journey, anchored, now, settings)
        if action is not None:
            out.append((journey, anchored, action))
    return out
