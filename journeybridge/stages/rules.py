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
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from journeybridge.model import OrderStatus, UtcDateTime
from journeybridge.stages.facts import PersonFacts
from journeybridge.stages.phases import Stage
from journeybridge.stages.rhythm import GapGates
from journeybridge.stages.settings import StageSettings

__all__ = ["Classification", "Reason", "decide"]

FactValue = str | int | float | bool | None


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


def _days(delta: timedelta) -> float:
    return delta / timedelta(days=1)


def _when(value: datetime) -> str:
    return value.date().isoformat()


def _flags(facts: PersonFacts, settings: StageSettings) -> list[str]:
    flags: list[str] = []
    abandoned_after = timedelta(hours=settings.abandoned_after_hours)
    window = timedelta(days=settings.consideration_window_days)
    last_paid = facts.last_purchase
    for seen in facts.orders:
        recent = facts.now - seen.changed_at <= window
        newer_than_purchase = last_paid is None or seen.order.created_at > last_paid
        if not (recent and newer_than_purchase):
            continue
        if seen.status is OrderStatus.FAILED:
            flags.append("payment_failed")
        if seen.status in (OrderStatus.CHECKOUT_STARTED, OrderStatus.PENDING_PAYMENT,
                           OrderStatus.ON_HOLD, OrderStatus.FAILED) and \
                facts.now - seen.order.created_at >= abandoned_after:
            flags.append("abandoned_checkout")
    for cart in facts.open_carts:
        at = cart.updated_at or cart.created_at
        if facts.now - at <= window and facts.now - at >= abandoned_after and \
                (last_paid is None or at > last_paid):
            flags.append("abandoned_cart")
    if any(seen.status is OrderStatus.PAID for seen in facts.orders):
        flags.append("order_in_preparation")
    if facts.subscribed:
        flags.append("newsletter")
    return sorted(set(flags))


def _stage_result(facts: PersonFacts, key: str, stage: Stage, since: datetime, rule: str,
                  text: str, values: dict[str, FactValue], flags: list[str],
                  probability: float | None, extra: list[Reason] | None = None) -> Classification:
    reasons = [Reason(rule=rule, text=text, facts=values), *(extra or [])]
    return Classification(person_key=key, stage=stage, since=min(since, facts.now),
                          reasons=tuple(reasons), flags=tuple(flags),
                          probability_no_purchase=probability)


def _own_gate(facts: PersonFacts, gate: float, settings: StageSettings) -> tuple[float, str]:
    """The gate for this person: the shop's, stretched to their own rhythm when they have one."""
    gaps = facts.gaps_days()
    if len(gaps) >= 2:
        usual = sorted(gaps)[len(gaps) // 2]
        own = usual * settings.own_rhythm_factor
        if own > gate:
            return own, f"your usual gap is {usual:.0f} days"
        return gate, f"their usual gap is {usual:.0f} days"
    return gate, ""


def decide(
    facts: PersonFacts,
    key: str,
    gates: GapGates,
    settings: StageSettings,
    probability: float | None = None,
    model_note: str = "",
) -> Classification:
    """Classify one person from their facts, the shop's gap gates and (where the shop's
    BG/NBD model is fitted) their probability of no purchase within the horizon."""
    now = facts.now
    flags = _flags(facts, settings)
    purchases = facts.purchases
    service_window = timedelta(days=settings.service_window_days)

    # 1. service
    shipped = [o for o in facts.orders if o.status is OrderStatus.SHIPPED]
    if shipped:
        latest = max(shipped, key=lambda o: o.changed_at)
        return _stage_result(
            facts, key, Stage.SERVICE, latest.changed_at, "service.shipped",
            f"order {latest.order.number or latest.order.id} was shipped on "
            f"{_when(latest.changed_at)} and is not delivered yet",
            {"order": latest.order.id, "shipped_on": _when(latest.changed_at)}, flags,
            probability)
    troubled = [o for o in facts.orders
                if (o.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED)
                    and (o.order.paid_at is not None or o.order.refunds)
                    and now - o.changed_at <= service_window)]
    troubled += [o for o in facts.orders if o.order.refunds and o.status.is_paid and
                 any(r.at is not None and now - r.at <= service_window for r in o.order.refunds)]
    if troubled:
        latest = max(troubled, key=lambda o: o.changed_at)
        what = "refunded" if latest.order.refunds or latest.status is OrderStatus.REFUNDED \
            else "cancelled"
        return _stage_result(
            facts, key, Stage.SERVICE, latest.changed_at, f"service.{what}",
            f"order {latest.order.number or latest.order.id} was {what} after payment on "
            f"{_when(latest.changed_at)}: a pain point to follow up",
            {"order": latest.order.id, what + "_on": _when(latest.changed_at),
             "refunded_amount": str(latest.order.refunded_amount)},
            [*flags, "refund_or_cancellation"], probability)

    # 2. a first purchase still being prepared
    first = facts.first_purchase
    if purchases == 1 and first is not None and "order_in_preparation" in flags:
        return _stage_result(
            facts, key, Stage.PURCHASE, first, "purchase.first_order_open",
            f"first purchase paid on {_when(first)}, still being prepared",
            {"purchases": 1, "paid_on": _when(first)}, flags, probability)

    last = facts.last_purchase
    if purchases >= 1 and last is not None:
        since_last = _days(now - last)
        at_risk_gate, rhythm_note = _own_gate(facts, gates.at_risk_days, settings)
        lapsed_gate, _ = _own_gate(facts, gates.lapsed_days, settings)
        lapsed_gate = max(lapsed_gate, at_risk_gate)
        values: dict[str, FactValue] = {
            "purchases": purchases,
            "last_purchase": _when(last),
            "days_since_last_purchase": round(since_last, 1),
            "at_risk_after_days": round(at_risk_gate, 1),
            "lapsed_after_days": round(lapsed_gate, 1),
        }
        if probability is not None:
            values["probability_no_order_in_horizon"] = round(probability, 3)
            values["horizon_days"] = settings.horizon_days
        context = Reason(rule="rhythm", text=gates.describe() + (f"; {rhythm_note}"
                                                                 if rhythm_note else ""),
                         facts={"repeat_gaps_measured": gates.repeat_gaps})
        extra = [context]
        if model_note:
            extra.append(Reason(rule="model", text=model_note))
        order_word = "order" if purchases == 1 else "orders"
        story = (f"{purchases} paid {order_word}; last {since_last:.0f} days ago"
                 + (f"; {rhythm_note}" if rhythm_note else ""))

        def prob_ok(threshold: float) -> bool:
            return probability is None or probability >= threshold

        # 3./4. lapsed, at risk: two signals together
        if since_last > lapsed_gate and prob_ok(settings.lapsed_probability):
            chance = ("" if probability is None else
                      f" and a {probability:.0%} chance of no order in the next "
                      f"{settings.horizon_days:.0f} days")
            return _stage_result(
                facts, key, Stage.LAPSED, last + timedelta(days=lapsed_gate), "lapsed",
                f"{story}: past the {lapsed_gate:.0f}-day lapsed gate{chance}", values, flags,
                probability, extra)
        if since_last > at_risk_gate and prob_ok(settings.at_risk_probability):
            chance = ("" if probability is None else
                      f" and a {probability:.0%} chance of no order in the next "
                      f"{settings.horizon_days:.0f} days")
            return _stage_result(
                facts, key, Stage.AT_RISK, last + timedelta(days=at_risk_gate), "at_risk",
                f"{story}: past the {at_risk_gate:.0f}-day at-risk gate{chance}", values, flags,
                probability, extra)

        # the moment the current run of purchases began (after the last break in rhythm)
        run_start = facts.purchase_times[0]
        for before, after in zip(facts.purchase_times, facts.purchase_times[1:]):
            if _days(after - before) > at_risk_gate:
                run_start = after
        run = [t for t in facts.purchase_times if t >= run_start]
        loyal_since = run[1] if len(run) >= 2 else last

        if purchases >= 2:
            # 5. advocacy
            review_window = timedelta(days=settings.advocacy_review_window_days)
            good = [r for r in facts.reviews
                    if r.approved and r.rating >= settings.advocacy_min_rating
                    and now - r.created_at <= review_window]
            if good:
                review = max(good, key=lambda r: r.created_at)
                return _stage_result(
                    facts, key, Stage.ADVOCACY, max(review.created_at, loyal_since),
                    "advocacy.review",
                    f"{story}; rated product {review.product_id} {review.rating}/5 on "
                    f"{_when(review.created_at)}",
                    {**values, "review_rating": review.rating, "review_on":
                     _when(review.created_at), "review_verified": review.verified},
                    flags, probability, extra)
            if purchases >= settings.advocacy_min_orders:
                nth = facts.purchase_times[settings.advocacy_min_orders - 1]
                return _stage_result(
                    facts, key, Stage.ADVOCACY, max(nth, loyal_since), "advocacy.many_orders",
                    f"{story}: at least {settings.advocacy_min_orders} purchases makes a fan",
                    values, flags, probability, extra)
            # 6. loyalty
            return _stage_result(
                facts, key, Stage.LOYALTY, loyal_since, "loyalty",
                f"{story}: a repeat buyer within their rhythm", values, flags, probability,
                extra)
        # 7. a one-time buyer, delivered and within rhythm
        return _stage_result(
            facts, key, Stage.PURCHASE, last, "purchase.one_time",
            f"{story}: bought once, within the shop's rhythm", values, flags, probability,
            extra)

    # 8. consideration
    window = timedelta(days=settings.consideration_window_days)
    signals: list[tuple[datetime, str]] = []
    for seen in facts.orders:
        if seen.status.is_open_checkout and now - seen.order.created_at <= window:
            signals.append((seen.order.created_at,
                            f"order {seen.order.number or seen.order.id} "
                            f"{seen.order.raw_status} (unpaid)"))
    for cart in facts.open_carts:
        at = cart.updated_at or cart.created_at
        if now - at <= window:
            signals.append((at, f"cart {cart.id} with {len(cart.lines)} products, no order"))
    if signals:
        signals.sort()
        since, what = signals[0]
        detail = "; ".join(text for _, text in signals[:3])
        reminder = ("the payment failed, so the reminder should offer help paying"
                    if "payment_failed" in flags else
                    "left behind: a reminder may bring them back" if
                    ("abandoned_checkout" in flags or "abandoned_cart" in flags) else
                    "still fresh")
        return _stage_result(
            facts, key, Stage.CONSIDERATION, since, "consideration.checkout",
            f"no purchase yet, but {detail} since {_when(since)}; {reminder}",
            {"signals": len(signals), "first_signal": _when(since)}, flags, None)

    known = facts.known_since
    # 9. awareness
    reason = "known to the shop"
    values2: dict[str, FactValue] = {}
    if known is not None:
        values2["known_since"] = _when(known)
        reason = f"known to the shop since {_when(known)}"
    if facts.subscribed:
        reason += ", subscribed to the newsletter"
        values2["newsletter"] = True
    if facts.orders:
        reason += f"; {len(facts.orders)} unpaid or cancelled order(s), none recent"
        values2["unpaid_orders"] = len(facts.orders)
    return _stage_result(facts, key, Stage.AWARENESS, known or now, "awareness",
                         reason + "; no cart, checkout or order yet" if not facts.orders
                         else reason, values2, flags, None)
